import { builder } from './builder.js';
import { toGlobalId } from './ids.js';
import { User } from './user.js';

export const Attachment = builder.prismaObject('Attachment', {
  fields: (t) => ({
    id: t.id({ resolve: (a) => toGlobalId('Attachment', a.id) }),
    fileName: t.exposeString('fileName'),
    contentType: t.exposeString('contentType'),
    size: t.exposeInt('size'),
    url: t.string({ resolve: (a) => `/static/${a.storedName}` }),
  }),
});

export const Message = builder.prismaNode('Message', {
  id: { field: 'id' },
  fields: (t) => ({
    channel: t.relation('channel'),
    author: t.relation('author'),
    content: t.exposeString('content'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    editedAt: t.expose('editedAt', { type: 'DateTime', nullable: true }),
    replyTo: t.relation('replyTo', { nullable: true }),
    attachments: t.relation('attachments'),
    reactions: t.field({
      type: [ReactionGroup],
      description: 'One group per emoji, in order of first use.',
      resolve: (message, _args, ctx) => ctx.services.reactions.groups(ctx.actor, message.id),
    }),
    mentions: t.field({
      type: [User],
      select: { mentions: { select: { user: true } } },
      resolve: (message) => message.mentions.map((m) => m.user),
    }),
  }),
});

export const ReactionGroup = builder
  .objectRef<{ emoji: string; count: number; viewerReacted: boolean }>('ReactionGroup')
  .implement({
    fields: (t) => ({
      emoji: t.exposeString('emoji'),
      count: t.exposeInt('count'),
      viewerReacted: t.exposeBoolean('viewerReacted'),
    }),
  });

export const DeletedMessage = builder.objectRef<{ id: string; channelId: string }>('DeletedMessage').implement({
  fields: (t) => ({
    id: t.id({ resolve: (d) => toGlobalId('Message', d.id) }),
    channelId: t.id({ resolve: (d) => toGlobalId('Channel', d.channelId) }),
  }),
});
