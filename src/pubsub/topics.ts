// Every real-time topic and its payload, in one place. A topic is narrow (one channel, one
// guild or one user) so no subscriber filters other channels' events. Payloads are plain
// JSON (dates as ISO strings) because they cross Redis between instances.

export interface UserSnapshot {
  id: string;
  username: string;
  displayName: string;
  createdAt: string;
  /** the profile, where the publisher had it at hand (absent: fields load it) */
  profile?: ProfileSnapshot;
}

export interface ProfileSnapshot {
  bio: string | null;
  /** stored name of the avatar upload */
  avatarName: string | null;
  customStatus: { text: string | null; emoji: string | null; expiresAt: string | null } | null;
}

export interface ChannelSnapshot {
  id: string;
  /** null for a DM or group chat */
  guildId: string | null;
  name: string;
  type: 'TEXT' | 'VOICE' | 'DM' | 'GROUP_DM';
  topic: string | null;
  position: number;
  createdAt: string;
  /** VOICE channels' settings (absent: the defaults) */
  userLimit?: number;
  bitrate?: number;
}

export interface GuildSnapshot {
  id: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  ownerId: string;
  createdAt: string;
}

export interface AttachmentSnapshot {
  id: string;
  fileName: string;
  storedName: string;
  contentType: string;
  size: number;
}

/** A message as a reply target carries: enough to show "replying to …" without a query. */
export interface RepliedMessageSnapshot {
  id: string;
  channelId: string;
  authorId: string;
  content: string;
  createdAt: string;
  editedAt: string | null;
  replyToId: string | null;
  author: UserSnapshot;
  attachments: AttachmentSnapshot[];
}

/** One emoji's reactors, in order of first use (count = userIds.length). */
export interface ReactionSnapshot {
  emoji: string;
  userIds: string[];
}

/** Everything a message event carries, so that delivering it to any number of subscribers
 *  queries nothing: author, attachments, mentions, reply target, reactions and channel. */
export interface MessageSnapshot extends RepliedMessageSnapshot {
  /** null in a DM or group chat */
  guildId: string | null;
  /** the sender's idempotency key of the send, for optimistic clients to reconcile */
  nonce: string | null;
  /** who is mentioned: routes mention events; `mentions` carries the users */
  mentionIds: string[];
  mentions: UserSnapshot[];
  replyTo: RepliedMessageSnapshot | null;
  reactions: ReactionSnapshot[];
  channel: ChannelSnapshot;
}

export interface TypingPayload {
  channelId: string;
  user: UserSnapshot;
  isTyping: boolean;
  expiresAt: string | null;
}

export type PresenceStatusName = 'ONLINE' | 'IDLE' | 'DND' | 'OFFLINE';

export interface PresencePayload {
  guildId: string;
  user: UserSnapshot;
  status: PresenceStatusName;
}

export type MemberLeftReason = 'LEFT' | 'KICKED' | 'BANNED';

export type GuildEventPayload =
  | { kind: 'MEMBER_JOINED'; guildId: string; user: UserSnapshot }
  | { kind: 'MEMBER_LEFT'; guildId: string; user: UserSnapshot; reason: MemberLeftReason }
  // restricted: the channel has permission overwrites, so each subscriber's view is checked
  | { kind: 'CHANNEL_CREATED'; guildId: string; channel: ChannelSnapshot; restricted?: boolean }
  | { kind: 'CHANNEL_UPDATED'; guildId: string; channel: ChannelSnapshot; restricted?: boolean }
  | { kind: 'CHANNEL_DELETED'; guildId: string; channelId: string }
  | { kind: 'GUILD_UPDATED'; guildId: string; guild: GuildSnapshot }
  | { kind: 'GUILD_DELETED'; guildId: string }
  /** a member changed their profile: `user` carries it whole */
  | { kind: 'USER_UPDATED'; guildId: string; user: UserSnapshot }
  /** who may view which channels may have changed (overwrites, roles, ownership): open channel
   *  streams of the channel (null: every channel) and user (null: everyone) are re-checked.
   *  Internal: never delivered to guildEvents subscribers. */
  | { kind: 'CHANNEL_ACCESS_CHANGED'; guildId: string; channelId: string | null; userId: string | null };

/** The guild events subscribers receive (CHANNEL_ACCESS_CHANGED is for the server alone). */
export type PublicGuildEvent = Exclude<GuildEventPayload, { kind: 'CHANNEL_ACCESS_CHANGED' }>;

/** Who has a channel open: everyone now (`users`), and who just came or went. */
export interface ChannelActivityPayload {
  channelId: string;
  users: UserSnapshot[];
  joined: UserSnapshot[];
  left: UserSnapshot[];
}

export type UserEventPayload =
  | { kind: 'ACCESS_REVOKED'; guildId: string }
  | { kind: 'MENTIONED'; message: MessageSnapshot };

/** What happens to a DM or group chat that open subscriptions of it must know. */
export type DirectChannelEventPayload = { kind: 'RECIPIENT_REMOVED'; channelId: string; userId: string };

/** A login session ended (sign-out, token reuse): every instance drops it at once. */
export interface SessionEndedPayload {
  sessionId: string;
  userId: string;
}

/** One user's voice state as events carry it: the user and channel travel with it. */
export interface VoiceStateSnapshot {
  user: UserSnapshot;
  channel: ChannelSnapshot;
  selfMute: boolean;
  selfDeaf: boolean;
  serverMute: boolean;
  serverDeaf: boolean;
  speaking: boolean;
  joinedAt: string;
}

export type VoiceEventKind = 'JOINED' | 'LEFT' | 'MOVED' | 'UPDATED' | 'SPEAKING';

/** A change of who is in the guild's voice channels, or how. `state` is the state after it
 *  (for LEFT: the last one); `previousChannelId` is where a MOVED user came from. */
export interface VoiceEventPayload {
  kind: VoiceEventKind;
  guildId: string;
  state: VoiceStateSnapshot;
  previousChannelId: string | null;
  /** the channel has permission overwrites: each subscriber's view is checked */
  restricted: boolean;
}

export type VoiceCloseReason = 'LEFT' | 'REPLACED' | 'MOVED' | 'DISCONNECTED' | 'TRANSPORT_FAILED' | 'EXPIRED';

/** What the media node has for one participant's browser, relayed to its voiceSignals stream. */
export type VoiceSignalPayload =
  | { kind: 'OFFER'; sessionId: string; sdp: string }
  | { kind: 'CLOSED'; sessionId: string; reason: VoiceCloseReason }
  /** internal: the instance holding the session sets the node's forwarding (never delivered) */
  | { kind: 'FORWARDING'; sessionId: string; muted: boolean; deafened: boolean }
  /** internal: an answer or candidate sent to another instance than the session's, relayed to it */
  | { kind: 'ANSWER'; sessionId: string; sdp: string }
  | { kind: 'CANDIDATE'; sessionId: string; candidate: unknown };

/** topic → [key it is scoped by, payload] */
export interface Topics {
  messageAdded: [channelId: string, payload: MessageSnapshot];
  messageUpdated: [channelId: string, payload: MessageSnapshot];
  messageDeleted: [channelId: string, payload: { id: string; channelId: string }];
  typing: [channelId: string, payload: TypingPayload];
  presence: [guildId: string, payload: PresencePayload];
  guildEvent: [guildId: string, payload: GuildEventPayload];
  userEvent: [userId: string, payload: UserEventPayload];
  /** a DM or group chat's membership changes (its streams are cut as a guild's are) */
  directChannelEvent: [channelId: string, payload: DirectChannelEventPayload];
  channelActivity: [channelId: string, payload: ChannelActivityPayload];
  /** voice joins, leaves, moves, mutes and speaking in the guild's voice channels */
  voiceEvent: [guildId: string, payload: VoiceEventPayload];
  /** the media node's offers and the end of one voice session, for its participant */
  voiceSignal: [sessionId: string, payload: VoiceSignalPayload];
  /** one channel for every instance: few events, each of interest to all */
  sessionEnded: [scope: 'all', payload: SessionEndedPayload];
}

export type TopicName = keyof Topics;
export type TopicPayload<T extends TopicName> = Topics[T][1];

export const topicChannel = (topic: TopicName, key: string): string => `${topic}:${key}`;

export type Unlisten = () => Promise<void>;

export interface PubSub {
  publish<T extends TopicName>(topic: T, key: Topics[T][0], payload: TopicPayload<T>): Promise<void>;
  /**
   * Calls handler with every event of one topic key. Resolves once the subscription is live
   * (events published after that are delivered), to the function that ends it.
   */
  listen<T extends TopicName>(topic: T, key: Topics[T][0], handler: (payload: TopicPayload<T>) => void): Promise<Unlisten>;
  /**
   * Calls handler each time the backend regained a lost connection: events published while it
   * was away were not delivered to this instance. Returns the function that stops it.
   */
  onResume(handler: () => void): () => void;
  /** How many subscriptions this instance holds on a topic key. */
  listenerCount<T extends TopicName>(topic: T, key: Topics[T][0]): Promise<number>;
  close(): Promise<void>;
}
