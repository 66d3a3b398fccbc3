import type { Db } from '../db/client.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';

export interface TypingRegistry {
  /** user ids currently typing in the channel, on any instance */
  typingIn(channelId: string): Promise<string[]>;
}

export class TypingService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly registry: TypingRegistry,
  ) {}

  async typingUsers(actor: Actor, channelId: string) {
    await this.access.requireChannel(actor, channelId);
    const ids = await this.registry.typingIn(channelId);
    if (ids.length === 0) return [];
    return this.db.user.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  }
}
