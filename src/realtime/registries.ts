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
