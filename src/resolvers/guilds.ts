import { builder } from '../schema/builder.js';
import { pageArgs, toConnection } from '../schema/connections.js';
import { Guild, GuildConnection, Invite } from '../schema/guild.js';
import { parseGlobalId, toGlobalId } from '../globalIds.js';

const CreateGuildInput = builder.inputType('CreateGuildInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    description: t.string(),
    isPublic: t.boolean(),
  }),
});

builder.queryFields((t) => ({
  guilds: t.connection(
    {
      type: Guild,
      description: 'Guilds the viewer can see: joined ones and public ones.',
      resolve: async (_root, args, ctx) =>
        toConnection(await ctx.services.guilds.list(ctx.actor, pageArgs(args, 'Guild')), 'Guild'),
    },
    GuildConnection,
  ),
  guild: t.field({
    type: Guild,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.guilds.get(ctx.actor, parseGlobalId(id, 'Guild')),
  }),
}));

builder.mutationFields((t) => ({
  createGuild: t.field({
    type: Guild,
    description: 'Creates a guild owned by the viewer, with a #general text channel.',
    args: { input: t.arg({ type: CreateGuildInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.guilds.create(ctx.actor, input),
  }),
  deleteGuild: t.id({
    description: 'Owner only; returns the deleted id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) =>
      toGlobalId('Guild', await ctx.services.guilds.delete(ctx.actor, parseGlobalId(id, 'Guild'))),
  }),
  createInvite: t.field({
    type: Invite,
    args: {
      guildId: t.arg.id({ required: true }),
      maxUses: t.arg.int(),
      expiresInSeconds: t.arg.int(),
    },
    resolve: (_root, args, ctx) =>
      ctx.services.guilds.createInvite(
        ctx.actor,
        parseGlobalId(args.guildId, 'Guild', 'guildId'),
        args.maxUses,
        args.expiresInSeconds,
      ),
  }),
  joinGuild: t.field({
    type: Guild,
    args: { inviteCode: t.arg.string({ required: true }) },
    resolve: (_root, { inviteCode }, ctx) => ctx.services.guilds.join(ctx.actor, inviteCode),
  }),
  leaveGuild: t.id({
    args: { guildId: t.arg.id({ required: true }) },
    resolve: async (_root, { guildId }, ctx) =>
      toGlobalId('Guild', await ctx.services.guilds.leave(ctx.actor, parseGlobalId(guildId, 'Guild', 'guildId'))),
  }),
}));
