import { builder } from '../schema/builder.js';
import { Channel, ChannelType } from '../schema/channel.js';
import { parseGlobalId, toGlobalId } from '../globalIds.js';

const CreateChannelInput = builder.inputType('CreateChannelInput', {
  fields: (t) => ({
    guildId: t.id({ required: true }),
    name: t.string({ required: true }),
    type: t.field({ type: ChannelType, defaultValue: 'TEXT' }),
    topic: t.string(),
    userLimit: t.int({ description: 'VOICE only: most participants at once, 0–99 (0 = no limit, the default).' }),
    bitrate: t.int({ description: 'VOICE only: audio bitrate in bits/s, 8000–384000 (default 64000).' }),
  }),
});

builder.queryFields((t) => ({
  channel: t.field({
    type: Channel,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.channels.get(ctx.actor, parseGlobalId(id, 'Channel')),
  }),
}));

builder.mutationFields((t) => ({
  createChannel: t.field({
    type: Channel,
    args: { input: t.arg({ type: CreateChannelInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.channels.create(ctx.actor, { ...input, guildId: parseGlobalId(input.guildId, 'Guild', 'guildId') }),
  }),
  deleteChannel: t.id({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) =>
      toGlobalId('Channel', await ctx.services.channels.delete(ctx.actor, parseGlobalId(id, 'Channel'))),
  }),
  markChannelRead: t.field({
    type: Channel,
    description: "Moves the viewer's read marker forward to messageId (never back).",
    args: { channelId: t.arg.id({ required: true }), messageId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.readStates.markRead(
        ctx.actor,
        parseGlobalId(args.channelId, 'Channel', 'channelId'),
        parseGlobalId(args.messageId, 'Message', 'messageId'),
      ),
  }),
}));
