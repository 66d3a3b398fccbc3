import type { ChannelSnapshot, UserSnapshot } from '../pubsub/topics.js';

// Ephemeral real-time state that must be right on every instance and survive a crashed
// instance without cleanup: who is typing where, and which connections are alive. Entries
// carry expiry times, so a dead instance's entries simply lapse.

export interface TypingRegistry {
  start(channelId: string, userId: string, expiresAt: number): Promise<void>;
  /** true when the user was typing (an isTyping:false event is then due) */
  stop(channelId: string, userId: string): Promise<boolean>;
  /** user ids typing in the channel now */
  typingIn(channelId: string): Promise<string[]>;
}

export interface ConnectionRegistry {
  /** Records a live connection; true when the user had none (just came online). */
  connect(userId: string, connectionId: string, expiresAt: number): Promise<boolean>;
  /** Removes a connection; true when it was the user's last one (just went offline). */
  disconnect(userId: string, connectionId: string): Promise<boolean>;
  /** Extends this instance's live connections. */
  heartbeat(connections: { userId: string; connectionId: string }[], expiresAt: number): Promise<void>;
  /** Users whose every connection lapsed (a crashed instance); each is reported once. */
  sweep(now: number): Promise<string[]>;
  onlineAmong(userIds: string[]): Promise<Set<string>>;
}

/**
 * Who has which channel open. A user may hold a channel open several times (tabs, sockets,
 * instances): each hold is one entry, the user counts once while any of theirs is alive.
 */
export interface ActivityRegistry {
  /** Records a hold; true when the user had none in that channel (just arrived). */
  enter(channelId: string, userId: string, holdId: string, expiresAt: number): Promise<boolean>;
  /** Removes a hold; true when it was the user's last one there (just left). */
  leave(channelId: string, userId: string, holdId: string): Promise<boolean>;
  /** Extends this instance's live holds. */
  heartbeat(holds: { channelId: string; userId: string; holdId: string }[], expiresAt: number): Promise<void>;
  /** Users whose every hold of a channel lapsed (a crashed instance); each is reported once. */
  sweep(now: number): Promise<{ channelId: string; userId: string }[]>;
  /** user ids with the channel open now, in no particular order */
  activeIn(channelId: string): Promise<string[]>;
}

/** One user's voice state, as every instance sees it (plain JSON: it crosses Redis). */
export interface VoiceStateEntry {
  userId: string;
  guildId: string;
  channelId: string;
  /** the current voice session (media participant id); a new join or a move makes a new one */
  sessionId: string;
  selfMute: boolean;
  selfDeaf: boolean;
  serverMute: boolean;
  serverDeaf: boolean;
  speaking: boolean;
  joinedAt: string;
  /** what events about this state show, carried so that publishing queries nothing */
  user: UserSnapshot;
  channel: ChannelSnapshot;
  /** the channel had permission overwrites when joined: subscribers' views are checked */
  restricted: boolean;
}

/**
 * Who is in which voice channel: one entry per user at most, across instances. Entries carry
 * an expiry that the instance holding the session extends; a crashed instance's entries lapse
 * and the sweep of any surviving instance reports each once.
 */
export interface VoiceRegistry {
  /**
   * Makes `entry` the user's voice state; resolves to the one it replaced (still live), if any.
   * With `limit` > 0 it is written only while fewer than `limit` other users have a live state
   * in `entry.channelId`, else nothing changes and it resolves to `'full'`: the count and the
   * write are one step across instances, so concurrent joins cannot both take the last place.
   */
  put(entry: VoiceStateEntry, expiresAt: number, limit?: number): Promise<VoiceStateEntry | null | 'full'>;
  get(userId: string): Promise<VoiceStateEntry | null>;
  /** Changes the user's state if it is still session `sessionId`; resolves to the new state (null: not there). */
  update(userId: string, sessionId: string, patch: Partial<Omit<VoiceStateEntry, 'userId' | 'sessionId' | 'guildId'>> & { sessionId?: string }): Promise<VoiceStateEntry | null>;
  /** `update` to another channel (`patch.channelId`), in one step with put's `limit` check
   *  there (0 = none): `'full'` when `limit` other users are already in it. */
  move(
    userId: string,
    sessionId: string,
    patch: Partial<Omit<VoiceStateEntry, 'userId' | 'sessionId' | 'guildId'>> & { channelId: string; sessionId?: string },
    limit: number,
  ): Promise<VoiceStateEntry | null | 'full'>;
  /** Removes the user's state if it is session `sessionId` (any session when omitted); resolves to what was removed. */
  remove(userId: string, sessionId?: string): Promise<VoiceStateEntry | null>;
  /** The states in a voice channel, by joinedAt. */
  inChannel(channelId: string): Promise<VoiceStateEntry[]>;
  /** Extends these sessions (this instance's). */
  heartbeat(sessions: { userId: string; sessionId: string }[], expiresAt: number): Promise<void>;
  /** States whose expiry passed (a crashed instance, a session never opened); each reported once. */
  sweep(now: number): Promise<VoiceStateEntry[]>;
}
