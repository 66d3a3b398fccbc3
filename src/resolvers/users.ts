import { builder } from '../schema/builder.js';
import { pageArgs, toConnection } from '../schema/connections.js';
import { parseGlobalId } from '../globalIds.js';
import { User, UserConnection } from '../schema/user.js';

builder.queryFields((t) => ({
  viewer: t.field({
    type: User,
    nullable: true,
    description: 'The signed-in user; null when anonymous.',
    resolve: (_root, _args, ctx) => ctx.services.users.viewer(ctx.actor),
  }),
  user: t.field({
    type: User,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.users.get(ctx.actor, parseGlobalId(id, 'User')),
  }),
  users: t.connection(
    {
      type: User,
      description:
        'Users sharing a guild with you whose username or display name starts with `search`, and, by exact username, users banned from a guild of yours.',
      args: { search: t.arg.string() },
      resolve: async (_root, args, ctx) =>
        toConnection(
          await ctx.services.users.search(ctx.actor, args.search, pageArgs(args, 'User'), ctx.clientAddress),
          'User',
        ),
    },
    UserConnection,
  ),
}));
