// Typing indicators. The registry answers "who is typing" on every instance; events carry
// their expiry so each subscriber ends an indicator on time even if the typist's instance died.
import type { Db } from '../db/client.js';
import type { PubSub, UserSnapshot } from '../pubsub/topics.js';
import type { TypingRegistry } from '../realtime/registries.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { isTextual } from './channels.js';
import { badInput } from './errors.js';
import { loadUserSnapshot } from './snapshots.js';

export class TypingService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
    private readonly registry: TypingRegistry,
    private readonly ttlMs: number,
  ) {}

  async start(actor: Actor, channelId: string): Promise<boolean> {
    const userId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    if (!isTextual(channel)) throw badInput('Typing indicators exist only in text channels.', 'channelId');
    // typing announces a message to come: only for those who may send one
    await this.access.requireChannelPermission(actor, channelId, 'SEND_MESSAGES');
    const expiresAt = Date.now() + this.ttlMs;
    await this.registry.start(channelId, userId, expiresAt);
    await this.pubsub.publish('typing', channelId, {
      channelId,
      user: await loadUserSnapshot(this.db, userId),
      isTyping: true,
      expiresAt: new Date(expiresAt).toISOString(),
    });
    return true;
  }

  async stop(actor: Actor, channelId: string): Promise<boolean> {
    const userId = actor.requireUser();
    await this.access.requireChannel(actor, channelId);
    await this.clear(channelId, userId);
    return true;
  }

  /** Ends the user's indicator if they were typing (on stopTyping, and when they send: the
   *  sender's snapshot is at hand then). */
  async clear(channelId: string, userId: string, user?: UserSnapshot): Promise<void> {
    if (!(await this.registry.stop(channelId, userId))) return;
    await this.pubsub.publish('typing', channelId, {
      channelId,
      user: user ?? (await loadUserSnapshot(this.db, userId)),
      isTyping: false,
      expiresAt: null,
    });
  }

  async typingUsers(actor: Actor, channelId: string) {
    await this.access.requireChannel(actor, channelId);
    const ids = await this.registry.typingIn(channelId);
    if (ids.length === 0) return [];
    return this.db.user.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  }
}
