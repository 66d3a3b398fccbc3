import type { Message as PrismaMessage } from '../generated/prisma/client.js';
import type { MessageSnapshot } from '../pubsub/topics.js';
import { UNREAD_COUNT_CAP } from '../services/readStates.js';
import { builder } from './builder.js';
import { asEventParent, viewerDependent } from './events.js';
import { pageArgs, toConnection } from './connections.js';
import { Message } from './message.js';
import { connectionFields } from './pageInfo.js';
import { Permission } from './role.js';
import { User } from './user.js';
import { toGlobalId } from '../globalIds.js';
import { toNames } from '../services/permissions.js';

export const ChannelType = builder.enumType('ChannelType', {
  description: 'TEXT and VOICE channels belong to a guild; DM (two people) and GROUP_DM (a group chat) to their recipients.',
  values: ['TEXT', 'VOICE', 'DM', 'GROUP_DM'] as const,
});

export const Channel = builder.prismaNode('Channel', {
  id: { field: 'id' },
  fields: (t) => ({
    guild: t.relation('guild', { nullable: true, description: 'null for a DM or group chat.' }),
    recipients: t.field({
      type: [User],
      description: 'The people of a DM or group chat, in the order they joined; empty for a guild channel.',
      resolve: (channel, _args, ctx) => ctx.services.directChannels.recipients(ctx.actor, channel.id),
    }),
    owner: t.relation('owner', { nullable: true, description: "A group chat's owner; null for other channels." }),
    name: t.exposeString('name'),
    type: t.field({ type: ChannelType, resolve: (channel) => channel.type }),
    topic: t.exposeString('topic', { nullable: true }),
    position: t.exposeInt('position'),
    userLimit: t.int({
      description: 'VOICE: most participants at once (0 = no limit; members with MOVE_MEMBERS may exceed it); 0 for other channels.',
      resolve: (channel) => channel.userLimit ?? 0,
    }),
    bitrate: t.int({
      description: 'VOICE: the audio bitrate clients should encode at, in bits/s (8000–384000).',
      resolve: (channel) => channel.bitrate ?? 64000,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    messages: t.connection(
      {
        type: Message,
        description:
          'Newest first. `after` pages back in time; `before` (with `last`) returns newer messages, for catch-up after a reconnect. A message id is accepted as a cursor.',
        extensions: viewerDependent,
        resolve: async (channel, args, ctx) => {
          const page = await ctx.services.messages.list(ctx.actor, channel, pageArgs(args, 'Message'));
          // answered from the snapshots the page carries, as events are
          return toConnection({ ...page, items: page.items.map((m) => asEventParent<MessageSnapshot, PrismaMessage>(m)) }, 'Message');
        },
      },
      MessageConnection,
    ),
    typingUsers: t.field({
      type: [User],
      description: 'Who is typing in this channel right now, across every server instance.',
      extensions: viewerDependent,
      resolve: (channel, _args, ctx) => ctx.services.typing.typingUsers(ctx.actor, channel.id),
    }),
    viewerPermissions: t.field({
      type: [Permission],
      description: "What the viewer may do in this channel: their guild permissions with the channel's overwrites applied.",
      extensions: viewerDependent,
      resolve: (channel, _args, ctx) => ctx.services.channels.viewerPermissions(ctx.actor, channel.id),
    }),
    permissionOverwrites: t.field({
      type: [PermissionOverwrite],
      description: 'The overwrites of this channel, for those who may manage them (MANAGE_ROLES in it); empty for anyone else.',
      extensions: viewerDependent,
      resolve: (channel, _args, ctx) => ctx.services.overwrites.list(ctx.actor, channel.id),
    }),
    activeUsers: t.field({
      type: [User],
      description: 'Members who have this channel open now (a live channelActivity subscription), across every server instance.',
      extensions: viewerDependent,
      resolve: (channel, _args, ctx) => ctx.services.activity.activeUsers(ctx.actor, channel.id),
    }),
    unreadCount: t.int({
      description: `Messages by others after the viewer's read marker (since they joined, before their first mark). Counted up to ${UNREAD_COUNT_CAP}: ${UNREAD_COUNT_CAP} means ${UNREAD_COUNT_CAP} or more (show "${UNREAD_COUNT_CAP}+").`,
      extensions: viewerDependent,
      resolve: (channel, _args, ctx) => ctx.services.readStates.unreadCount(ctx.actor, channel.id),
    }),
    mentionCount: t.int({
      description: `Unread messages that mention the viewer. Counted up to ${UNREAD_COUNT_CAP}: ${UNREAD_COUNT_CAP} means ${UNREAD_COUNT_CAP} or more.`,
      extensions: viewerDependent,
      resolve: (channel, _args, ctx) => ctx.services.readStates.mentionCount(ctx.actor, channel.id),
    }),
  }),
});

export const MessageConnection = builder.connectionObject(
  { type: Message, name: 'MessageConnection', fields: connectionFields },
  { name: 'MessageEdge' },
);

export const OverwriteTargetType = builder.enumType('OverwriteTargetType', { values: ['ROLE', 'MEMBER'] as const });

export const PermissionOverwrite = builder.prismaObject('PermissionOverwrite', {
  description: "What one role or member may do in one channel beyond, or short of, their guild permissions.",
  fields: (t) => ({
    targetType: t.field({ type: OverwriteTargetType, resolve: (o) => o.targetType }),
    targetId: t.id({
      description: 'The role (ROLE) or the user (MEMBER) it applies to.',
      resolve: (o) => toGlobalId(o.targetType === 'ROLE' ? 'Role' : 'User', o.targetId),
    }),
    allow: t.field({ type: [Permission], resolve: (o) => toNames(o.allow) }),
    deny: t.field({ type: [Permission], resolve: (o) => toNames(o.deny) }),
  }),
});
