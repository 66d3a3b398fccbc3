// Single-instance registries of live connections and typists.
import type { ConnectionRegistry } from '../services/presence.js';
import type { TypingRegistry } from '../services/typing.js';

export class MemoryConnectionRegistry implements ConnectionRegistry {
  private readonly counts = new Map<string, number>();

  add(userId: string): void {
    this.counts.set(userId, (this.counts.get(userId) ?? 0) + 1);
  }

  remove(userId: string): void {
    const n = (this.counts.get(userId) ?? 0) - 1;
    if (n > 0) this.counts.set(userId, n);
    else this.counts.delete(userId);
  }

  async onlineAmong(userIds: string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.counts.has(id)));
  }
}

export class MemoryTypingRegistry implements TypingRegistry {
  async typingIn(): Promise<string[]> {
    return [];
  }
}
