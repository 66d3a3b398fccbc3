// Private channels: permission overwrites of a channel for a role or a member.
import { builder } from '../schema/builder.js';
import { Channel, OverwriteTargetType, PermissionOverwrite } from '../schema/channel.js';
import { Permission } from '../schema/role.js';
import { parseGlobalId } from '../globalIds.js';

const targetArg = (targetType: 'ROLE' | 'MEMBER', targetId: string) =>
  parseGlobalId(targetId, targetType === 'ROLE' ? 'Role' : 'User', 'targetId');

builder.mutationFields((t) => ({
  setChannelPermissionOverwrite: t.field({
    type: PermissionOverwrite,
    description:
      "Creates or replaces what a role (targetId: a Role id, @everyone's included) or a member (targetId: a User id) may do in the channel. Needs MANAGE_ROLES in the channel; only roles below your highest, members ranked below you (or yourself), and permissions you have there. Members who lose VIEW_CHANNEL stop receiving the channel's events at once.",
    args: {
      channelId: t.arg.id({ required: true }),
      targetType: t.arg({ type: OverwriteTargetType, required: true }),
      targetId: t.arg.id({ required: true }),
      allow: t.arg({ type: [Permission], required: true }),
      deny: t.arg({ type: [Permission], required: true }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.overwrites.set(ctx.actor, {
        channelId: parseGlobalId(args.channelId, 'Channel', 'channelId'),
        targetType: args.targetType,
        targetId: targetArg(args.targetType, args.targetId),
        allow: args.allow,
        deny: args.deny,
      }),
  }),
  deleteChannelPermissionOverwrite: t.field({
    type: Channel,
    description: 'Removes an overwrite (success when there is none). Needs what setChannelPermissionOverwrite needs.',
    args: {
      channelId: t.arg.id({ required: true }),
      targetType: t.arg({ type: OverwriteTargetType, required: true }),
      targetId: t.arg.id({ required: true }),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.overwrites.delete(
        ctx.actor,
        parseGlobalId(args.channelId, 'Channel', 'channelId'),
        args.targetType,
        targetArg(args.targetType, args.targetId),
      ),
  }),
}));
