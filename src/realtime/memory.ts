// Single-process registries (the embedded default).
import type { ConnectionRegistry, TypingRegistry } from './registries.js';

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
