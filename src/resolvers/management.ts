// Running a guild: settings, ownership, membership, roles and moderation.
import { builder } from '../schema/builder.js';
import { Channel } from '../schema/channel.js';
import { Guild, Member } from '../schema/guild.js';
import { parseGlobalId, toGlobalId } from '../globalIds.js';
import { Permission, Role } from '../schema/role.js';

const UpdateGuildInput = builder.inputType('UpdateGuildInput', {
  fields: (t) => ({ name: t.string(), description: t.string(), isPublic: t.boolean() }),
});
const UpdateChannelInput = builder.inputType('UpdateChannelInput', {
  fields: (t) => ({
    name: t.string(),
    topic: t.string(),
    position: t.int({ description: 'Moves the channel; the others shift to make room.' }),
    userLimit: t.int({ description: 'VOICE only: most participants at once, 0–99 (0 = no limit).' }),
    bitrate: t.int({ description: 'VOICE only: audio bitrate in bits/s, 8000–384000.' }),
  }),
});
const CreateRoleInput = builder.inputType('CreateRoleInput', {
  fields: (t) => ({
    guildId: t.id({ required: true }),
    name: t.string({ required: true }),
    permissions: t.field({ type: [Permission], required: true }),
  }),
});

const guildArg = (id: string) => parseGlobalId(id, 'Guild', 'guildId');
const userArg = (id: string) => parseGlobalId(id, 'User', 'userId');

builder.mutationFields((t) => ({
  updateGuild: t.field({
    type: Guild,
    description: 'Needs MANAGE_GUILD.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateGuildInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.services.guilds.update(ctx.actor, parseGlobalId(args.id, 'Guild'), args.input),
  }),
  transferGuildOwnership: t.field({
    type: Guild,
    description: 'Owner only; the new owner must be a member.',
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.guilds.transferOwnership(ctx.actor, guildArg(args.guildId), userArg(args.userId)),
  }),
  joinPublicGuild: t.field({
    type: Guild,
    args: { guildId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.guilds.joinPublic(ctx.actor, guildArg(args.guildId)),
  }),
  addGuildMember: t.field({
    type: Member,
    description: 'Needs MANAGE_GUILD (the owner has it).',
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.guilds.addMemberDirectly(ctx.actor, guildArg(args.guildId), userArg(args.userId)),
  }),
  kickMember: t.id({
    description: 'Needs KICK_MEMBERS and a higher role than the member. Returns the user id.',
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) =>
      toGlobalId('User', await ctx.services.moderation.kick(ctx.actor, guildArg(args.guildId), userArg(args.userId))),
  }),
  banMember: t.id({
    description: 'Needs BAN_MEMBERS. The user is removed and cannot rejoin until unbanned. Returns the user id.',
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }), reason: t.arg.string() },
    resolve: async (_root, args, ctx) =>
      toGlobalId(
        'User',
        await ctx.services.moderation.ban(ctx.actor, guildArg(args.guildId), userArg(args.userId), args.reason),
      ),
  }),
  unbanMember: t.id({
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) =>
      toGlobalId('User', await ctx.services.moderation.unban(ctx.actor, guildArg(args.guildId), userArg(args.userId))),
  }),
  createRole: t.field({
    type: Role,
    description: 'Needs MANAGE_ROLES; a role cannot grant permissions you lack. It starts just above @everyone.',
    args: { input: t.arg({ type: CreateRoleInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.roles.create(ctx.actor, { ...input, guildId: guildArg(input.guildId) }),
  }),
  assignRole: t.field({
    type: Member,
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }), roleId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.roles.assign(ctx.actor, guildArg(args.guildId), userArg(args.userId), parseGlobalId(args.roleId, 'Role', 'roleId')),
  }),
  unassignRole: t.field({
    type: Member,
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }), roleId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.roles.unassign(ctx.actor, guildArg(args.guildId), userArg(args.userId), parseGlobalId(args.roleId, 'Role', 'roleId')),
  }),
  updateChannel: t.field({
    type: Channel,
    description: 'Needs MANAGE_CHANNELS.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateChannelInput, required: true }) },
    resolve: (_root, args, ctx) => ctx.services.channels.update(ctx.actor, parseGlobalId(args.id, 'Channel'), args.input),
  }),
}));
