// Event types that exist only on subscriptions.
import type {
  ChannelActivityPayload,
  ChannelSnapshot,
  PublicGuildEvent,
  GuildSnapshot,
  PresencePayload,
  TypingPayload,
  UserSnapshot,
} from '../pubsub/topics.js';
import type { Channel as PrismaChannel, Guild as PrismaGuild, User as PrismaUser } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { asEventParent } from './events.js';
import { Channel } from './channel.js';
import { Guild } from './guild.js';
import { toGlobalId } from '../globalIds.js';
import { PresenceStatus, User } from './user.js';

/** A user of an event, resolved from its snapshot (src/schema/events.ts). */
export const userFromSnapshot = (u: UserSnapshot) => asEventParent<UserSnapshot, PrismaUser>(u);

export const TypingEvent = builder.objectRef<TypingPayload>('TypingEvent').implement({
  fields: (t) => ({
    channelId: t.id({ resolve: (e) => toGlobalId('Channel', e.channelId) }),
    user: t.field({ type: User, resolve: (e) => userFromSnapshot(e.user) }),
    isTyping: t.exposeBoolean('isTyping'),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the indicator ends unless refreshed by another startTyping.',
      resolve: (e) => e.expiresAt,
    }),
  }),
});

export const ChannelActivityEvent = builder.objectRef<ChannelActivityPayload>('ChannelActivityEvent').implement({
  description: 'Who has the channel open: the whole list now, and who just arrived or left (both empty in the first event).',
  fields: (t) => ({
    channelId: t.id({ resolve: (e) => toGlobalId('Channel', e.channelId) }),
    users: t.field({ type: [User], resolve: (e) => e.users.map(userFromSnapshot) }),
    joined: t.field({ type: [User], resolve: (e) => e.joined.map(userFromSnapshot) }),
    left: t.field({ type: [User], resolve: (e) => e.left.map(userFromSnapshot) }),
  }),
});

export const PresenceEvent = builder.objectRef<PresencePayload>('PresenceEvent').implement({
  fields: (t) => ({
    guildId: t.id({ resolve: (e) => toGlobalId('Guild', e.guildId) }),
    user: t.field({ type: User, resolve: (e) => userFromSnapshot(e.user) }),
    status: t.field({ type: PresenceStatus, resolve: (e) => e.status }),
  }),
});

type GuildEventOf<K extends PublicGuildEvent['kind']> = Extract<PublicGuildEvent, { kind: K }>;

const channelFromSnapshot = (c: ChannelSnapshot) => asEventParent<ChannelSnapshot, PrismaChannel>(c);
const guildFromSnapshot = (g: GuildSnapshot) => asEventParent<GuildSnapshot, PrismaGuild>(g);

export const MemberLeftReason = builder.enumType('MemberLeftReason', { values: ['LEFT', 'KICKED', 'BANNED'] as const });

const MemberJoinedEvent = builder.objectRef<GuildEventOf<'MEMBER_JOINED'>>('MemberJoinedEvent').implement({
  fields: (t) => ({
    guildId: t.id({ resolve: (e) => toGlobalId('Guild', e.guildId) }),
    user: t.field({ type: User, resolve: (e) => userFromSnapshot(e.user) }),
  }),
});

const MemberLeftEvent = builder.objectRef<GuildEventOf<'MEMBER_LEFT'>>('MemberLeftEvent').implement({
  fields: (t) => ({
    guildId: t.id({ resolve: (e) => toGlobalId('Guild', e.guildId) }),
    user: t.field({ type: User, resolve: (e) => userFromSnapshot(e.user) }),
    reason: t.field({ type: MemberLeftReason, resolve: (e) => e.reason }),
  }),
});

const ChannelCreatedEvent = builder.objectRef<GuildEventOf<'CHANNEL_CREATED'>>('ChannelCreatedEvent').implement({
  fields: (t) => ({ channel: t.field({ type: Channel, resolve: (e) => channelFromSnapshot(e.channel) }) }),
});

const ChannelUpdatedEvent = builder.objectRef<GuildEventOf<'CHANNEL_UPDATED'>>('ChannelUpdatedEvent').implement({
  fields: (t) => ({ channel: t.field({ type: Channel, resolve: (e) => channelFromSnapshot(e.channel) }) }),
});

const ChannelDeletedEvent = builder.objectRef<GuildEventOf<'CHANNEL_DELETED'>>('ChannelDeletedEvent').implement({
  fields: (t) => ({
    guildId: t.id({ resolve: (e) => toGlobalId('Guild', e.guildId) }),
    channelId: t.id({ resolve: (e) => toGlobalId('Channel', e.channelId) }),
  }),
});

const GuildUpdatedEvent = builder.objectRef<GuildEventOf<'GUILD_UPDATED'>>('GuildUpdatedEvent').implement({
  description: 'Settings or ownership changed.',
  fields: (t) => ({ guild: t.field({ type: Guild, resolve: (e) => guildFromSnapshot(e.guild) }) }),
});

const GuildDeletedEvent = builder.objectRef<GuildEventOf<'GUILD_DELETED'>>('GuildDeletedEvent').implement({
  description: 'The last event of a guildEvents subscription.',
  fields: (t) => ({ guildId: t.id({ resolve: (e) => toGlobalId('Guild', e.guildId) }) }),
});

const UserUpdatedEvent = builder.objectRef<GuildEventOf<'USER_UPDATED'>>('UserUpdatedEvent').implement({
  description: "A member changed their profile (display name, bio, custom status, avatar): the user carries it.",
  fields: (t) => ({
    guildId: t.id({ resolve: (e) => toGlobalId('Guild', e.guildId) }),
    user: t.field({ type: User, resolve: (e) => userFromSnapshot(e.user) }),
  }),
});

const GUILD_EVENT_TYPES = {
  MEMBER_JOINED: MemberJoinedEvent,
  MEMBER_LEFT: MemberLeftEvent,
  CHANNEL_CREATED: ChannelCreatedEvent,
  CHANNEL_UPDATED: ChannelUpdatedEvent,
  CHANNEL_DELETED: ChannelDeletedEvent,
  GUILD_UPDATED: GuildUpdatedEvent,
  GUILD_DELETED: GuildDeletedEvent,
  USER_UPDATED: UserUpdatedEvent,
} as const;

export const GuildEvent = builder.unionType('GuildEvent', {
  types: Object.values(GUILD_EVENT_TYPES),
  resolveType: (event: PublicGuildEvent) => GUILD_EVENT_TYPES[event.kind],
});
