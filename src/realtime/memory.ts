// Single-process registries (the embedded default).
import type { ActivityRegistry, ConnectionRegistry, TypingRegistry, VoiceRegistry, VoiceStateEntry } from './registries.js';

export class MemoryTypingRegistry implements TypingRegistry {
  private readonly channels = new Map<string, Map<string, number>>();

  async start(channelId: string, userId: string, expiresAt: number) {
    let typists = this.channels.get(channelId);
    if (!typists) this.channels.set(channelId, (typists = new Map()));
    typists.set(userId, expiresAt);
  }

  async stop(channelId: string, userId: string) {
    const typists = this.channels.get(channelId);
    const expiresAt = typists?.get(userId);
    typists?.delete(userId);
    if (typists?.size === 0) this.channels.delete(channelId);
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  async typingIn(channelId: string) {
    const now = Date.now();
    const typists = this.channels.get(channelId);
    if (!typists) return [];
    for (const [userId, expiresAt] of typists) if (expiresAt <= now) typists.delete(userId);
    return [...typists.keys()];
  }
}

export class MemoryConnectionRegistry implements ConnectionRegistry {
  private readonly users = new Map<string, Map<string, number>>();

  private live(userId: string, now = Date.now()) {
    const conns = this.users.get(userId);
    if (!conns) return undefined;
    for (const [id, expiresAt] of conns) if (expiresAt <= now) conns.delete(id);
    return conns;
  }

  async connect(userId: string, connectionId: string, expiresAt: number) {
    let conns = this.live(userId);
    const wasOnline = Boolean(conns?.size);
    if (!conns) this.users.set(userId, (conns = new Map()));
    conns.set(connectionId, expiresAt);
    return !wasOnline;
  }

  async disconnect(userId: string, connectionId: string) {
    const conns = this.users.get(userId);
    if (!conns?.delete(connectionId)) return false;
    if (this.live(userId)?.size) return false;
    this.users.delete(userId);
    return true;
  }

  async heartbeat(connections: { userId: string; connectionId: string }[], expiresAt: number) {
    for (const { userId, connectionId } of connections) this.users.get(userId)?.set(connectionId, expiresAt);
  }

  async sweep(now: number) {
    const gone: string[] = [];
    for (const userId of [...this.users.keys()]) {
      if (!this.live(userId, now)?.size) {
        this.users.delete(userId);
        gone.push(userId);
      }
    }
    return gone;
  }

  async onlineAmong(userIds: string[]) {
    return new Set(userIds.filter((id) => Boolean(this.live(id)?.size)));
  }
}

export class MemoryActivityRegistry implements ActivityRegistry {
  /** channel → user → hold → expiry */
  private readonly channels = new Map<string, Map<string, Map<string, number>>>();

  private holds(channelId: string, userId: string, now = Date.now()) {
    const holds = this.channels.get(channelId)?.get(userId);
    if (!holds) return undefined;
    for (const [id, expiresAt] of holds) if (expiresAt <= now) holds.delete(id);
    return holds;
  }

  private forget(channelId: string, userId: string) {
    const users = this.channels.get(channelId);
    users?.delete(userId);
    if (users?.size === 0) this.channels.delete(channelId);
  }

  async enter(channelId: string, userId: string, holdId: string, expiresAt: number) {
    const arrived = !this.holds(channelId, userId)?.size;
    let users = this.channels.get(channelId);
    if (!users) this.channels.set(channelId, (users = new Map()));
    let holds = users.get(userId);
    if (!holds) users.set(userId, (holds = new Map()));
    holds.set(holdId, expiresAt);
    return arrived;
  }

  async leave(channelId: string, userId: string, holdId: string) {
    if (!this.channels.get(channelId)?.get(userId)?.delete(holdId)) return false;
    if (this.holds(channelId, userId)?.size) return false;
    this.forget(channelId, userId);
    return true;
  }

  async heartbeat(holds: { channelId: string; userId: string; holdId: string }[], expiresAt: number) {
    for (const { channelId, userId, holdId } of holds) this.channels.get(channelId)?.get(userId)?.set(holdId, expiresAt);
  }

  async sweep(now: number) {
    const gone: { channelId: string; userId: string }[] = [];
    for (const [channelId, users] of [...this.channels]) {
      for (const userId of [...users.keys()]) {
        if (this.holds(channelId, userId, now)?.size) continue;
        this.forget(channelId, userId);
        gone.push({ channelId, userId });
      }
    }
    return gone;
  }

  async activeIn(channelId: string) {
    const users = this.channels.get(channelId);
    return users ? [...users.keys()].filter((userId) => Boolean(this.holds(channelId, userId)?.size)) : [];
  }
}

export class MemoryVoiceRegistry implements VoiceRegistry {
  private readonly users = new Map<string, { entry: VoiceStateEntry; expiresAt: number }>();

  private live(userId: string, now = Date.now()) {
    const held = this.users.get(userId);
    return held && held.expiresAt > now ? held : undefined;
  }

  /** Live states of other users in the channel, counted up to `atMost` (synchronous: with the
   *  write that follows, one step; nothing else runs in between on this one instance). */
  private othersIn(channelId: string, userId: string, atMost: number) {
    const now = Date.now();
    let n = 0;
    for (const h of this.users.values()) {
      if (h.expiresAt > now && h.entry.channelId === channelId && h.entry.userId !== userId && ++n >= atMost) break;
    }
    return n;
  }

  async put(entry: VoiceStateEntry, expiresAt: number, limit = 0): Promise<VoiceStateEntry | null | 'full'> {
    if (limit > 0 && this.othersIn(entry.channelId, entry.userId, limit) >= limit) return 'full';
    const before = this.live(entry.userId)?.entry ?? null;
    this.users.set(entry.userId, { entry: { ...entry }, expiresAt });
    return before;
  }

  async get(userId: string) {
    const held = this.live(userId);
    return held ? { ...held.entry } : null;
  }

  async update(userId: string, sessionId: string, patch: Partial<VoiceStateEntry>) {
    const held = this.live(userId);
    if (!held || held.entry.sessionId !== sessionId) return null;
    held.entry = { ...held.entry, ...patch, userId };
    return { ...held.entry };
  }

  async move(userId: string, sessionId: string, patch: Partial<VoiceStateEntry> & { channelId: string }, limit: number): Promise<VoiceStateEntry | null | 'full'> {
    const held = this.live(userId);
    if (!held || held.entry.sessionId !== sessionId) return null;
    if (limit > 0 && this.othersIn(patch.channelId, userId, limit) >= limit) return 'full';
    held.entry = { ...held.entry, ...patch, userId };
    return { ...held.entry };
  }

  async remove(userId: string, sessionId?: string) {
    const held = this.live(userId);
    if (!held || (sessionId !== undefined && held.entry.sessionId !== sessionId)) return null;
    this.users.delete(userId);
    return held.entry;
  }

  async inChannel(channelId: string) {
    const now = Date.now();
    return [...this.users.values()]
      .filter((h) => h.expiresAt > now && h.entry.channelId === channelId)
      .map((h) => ({ ...h.entry }))
      .sort((a, b) => a.joinedAt.localeCompare(b.joinedAt) || a.userId.localeCompare(b.userId));
  }

  async heartbeat(sessions: { userId: string; sessionId: string }[], expiresAt: number) {
    for (const { userId, sessionId } of sessions) {
      const held = this.users.get(userId);
      if (held && held.entry.sessionId === sessionId) held.expiresAt = Math.max(held.expiresAt, expiresAt);
    }
  }

  async sweep(now: number) {
    const gone: VoiceStateEntry[] = [];
    for (const [userId, held] of [...this.users]) {
      if (held.expiresAt > now) continue;
      this.users.delete(userId);
      gone.push(held.entry);
    }
    return gone;
  }
}
