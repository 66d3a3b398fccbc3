import { UNREAD_COUNT_CAP } from '../services/readStates.js';
import { builder } from './builder.js';
import { viewerDependent } from './events.js';
import { Channel } from './channel.js';
import { pageArgs, toConnection } from './connections.js';
import { connectionFields } from './pageInfo.js';
import { Permission, Role } from './role.js';
import { User } from './user.js';

export const Guild = builder.prismaNode('Guild', {
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    isPublic: t.exposeBoolean('isPublic'),
    owner: t.relation('owner'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    memberCount: t.relationCount('members'),
    channels: t.field({
      type: [Channel],
      description: 'Ordered by position. Empty for a viewer who is not a member.',
      extensions: viewerDependent,
      resolve: (guild, _args, ctx) => ctx.services.channels.listForGuild(ctx.actor, guild.id),
    }),
    members: t.connection(
      {
        type: Member,
        extensions: viewerDependent,
        resolve: async (guild, args, ctx) =>
          toConnection(await ctx.services.guilds.members(ctx.actor, guild.id, pageArgs(args, 'Member')), 'Member'),
      },
      MemberConnection,
    ),
    roles: t.field({
      type: [Role],
      description: 'Highest first. Empty for a viewer who is not a member.',
      extensions: viewerDependent,
      resolve: (guild, _args, ctx) => ctx.services.roles.list(ctx.actor, guild.id),
    }),
    viewerPermissions: t.field({
      type: [Permission],
      description: 'What the viewer may do here, to grey out what they may not.',
      extensions: viewerDependent,
      resolve: (guild, _args, ctx) => ctx.services.roles.viewerPermissions(ctx.actor, guild.id),
    }),
    viewerUnread: t.field({
      type: UnreadSummary,
      nullable: true,
      description: "The viewer's unread state over the guild's text channels; null for a non-member.",
      extensions: viewerDependent,
      resolve: (guild, _args, ctx) => ctx.services.readStates.guildSummary(ctx.actor, guild.id),
    }),
    onlineMembers: t.field({
      type: [User],
      description: 'Members with a live connection on any server instance.',
      extensions: viewerDependent,
      resolve: (guild, _args, ctx) => ctx.services.presence.onlineMembers(ctx.actor, guild.id),
    }),
  }),
});

export const UnreadSummary = builder
  .objectRef<{ unreadChannelCount: number; unreadMessageCount: number; mentionCount: number }>('UnreadSummary')
  .implement({
    fields: (t) => ({
      unreadChannelCount: t.exposeInt('unreadChannelCount', { description: 'Text channels with unread messages (exact).' }),
      unreadMessageCount: t.exposeInt('unreadMessageCount', {
        description: `Unread messages over all text channels, counted up to ${UNREAD_COUNT_CAP}: ${UNREAD_COUNT_CAP} means ${UNREAD_COUNT_CAP} or more.`,
      }),
      mentionCount: t.exposeInt('mentionCount', {
        description: `Unread messages that mention the viewer, counted up to ${UNREAD_COUNT_CAP}: ${UNREAD_COUNT_CAP} means ${UNREAD_COUNT_CAP} or more.`,
      }),
    }),
  });

export const Member = builder.prismaObject('Member', {
  fields: (t) => ({
    user: t.relation('user'),
    guild: t.relation('guild'),
    nickname: t.exposeString('nickname', { nullable: true }),
    joinedAt: t.expose('joinedAt', { type: 'DateTime' }),
    roles: t.field({
      type: [Role],
      description: 'Highest first, without @everyone.',
      resolve: (member, _args, ctx) => ctx.services.roles.memberRoles(member.id),
    }),
  }),
});

export const MemberConnection = builder.connectionObject(
  { type: Member, name: 'MemberConnection', fields: connectionFields },
  { name: 'MemberEdge' },
);

export const GuildConnection = builder.connectionObject(
  { type: Guild, name: 'GuildConnection', fields: connectionFields },
  { name: 'GuildEdge' },
);

export const Invite = builder.prismaObject('Invite', {
  fields: (t) => ({
    code: t.exposeString('code'),
    guild: t.relation('guild'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    maxUses: t.exposeInt('maxUses', { nullable: true }),
    uses: t.exposeInt('uses'),
  }),
});
