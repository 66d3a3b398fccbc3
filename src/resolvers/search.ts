import { builder } from '../schema/builder.js';
import { MessageContentKind, MessageSearchConnection, MessageSearchOrder } from '../schema/search.js';
import { parseOptionalGlobalId } from '../globalIds.js';

builder.queryFields((t) => ({
  searchMessages: t.field({
    type: MessageSearchConnection,
    description:
      'Messages containing the words of `query` (web-search syntax: "a phrase", -excluded, or) in every channel you may read, narrowed by the other arguments (all must hold). A guild or channel you cannot see is NOT_FOUND.',
    args: {
      query: t.arg.string({ required: true, description: '1 to 200 characters.' }),
      guildId: t.arg.id(),
      channelId: t.arg.id(),
      authorId: t.arg.id({ description: 'A User id: messages this user sent.' }),
      mentionsId: t.arg.id({ description: 'A User id: messages that mention this user.' }),
      has: t.arg({ type: [MessageContentKind], description: 'Messages containing every one of these.' }),
      sentBefore: t.arg({ type: 'DateTime', description: 'Messages sent strictly before this instant.' }),
      sentAfter: t.arg({ type: 'DateTime', description: 'Messages sent strictly after this instant.' }),
      orderBy: t.arg({ type: MessageSearchOrder, defaultValue: 'RELEVANCE' }),
      first: t.arg.int({ description: 'Page size, 0 to 100 (default 50).' }),
      after: t.arg.string({ description: "A cursor from a previous page of the same search (and order)." }),
    },
    resolve: async (_root, args, ctx) =>
      ctx.services.search.search(ctx.actor, {
        query: args.query,
        guildId: parseOptionalGlobalId(args.guildId, 'Guild', 'guildId'),
        channelId: parseOptionalGlobalId(args.channelId, 'Channel', 'channelId'),
        authorId: parseOptionalGlobalId(args.authorId, 'User', 'authorId'),
        mentionsId: parseOptionalGlobalId(args.mentionsId, 'User', 'mentionsId'),
        has: args.has,
        sentBefore: args.sentBefore,
        sentAfter: args.sentAfter,
        orderBy: args.orderBy,
        first: args.first,
        after: args.after,
      }),
  }),
}));
