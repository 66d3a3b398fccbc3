import { builder } from '../schema/builder.js';
import { parseGlobalId } from '../globalIds.js';
import { PresenceStatus, User } from '../schema/user.js';

builder.mutationFields((t) => ({
  startTyping: t.boolean({
    description: 'Shows you as typing in the channel for 10 s; call again to extend.',
    args: { channelId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.typing.start(ctx.actor, parseGlobalId(args.channelId, 'Channel', 'channelId')),
  }),
  stopTyping: t.boolean({
    args: { channelId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.typing.stop(ctx.actor, parseGlobalId(args.channelId, 'Channel', 'channelId')),
  }),
  setPresence: t.field({
    type: User,
    description: 'IDLE or DND while connected; OFFLINE appears offline (invisible); ONLINE is the default.',
    args: { status: t.arg({ type: PresenceStatus, required: true }) },
    resolve: (_root, args, ctx) => ctx.services.presence.setPreference(ctx.actor, args.status),
  }),
}));
