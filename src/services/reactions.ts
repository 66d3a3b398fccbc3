// Reactions: one per user per emoji, shown grouped with counts.
import type { Db } from '../db/client.js';
import type { PubSub } from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { toSnapshot } from './messages.js';
import type { MessageService } from './messages.js';
import { check, rules } from './validation.js';

export interface ReactionGroup {
  emoji: string;
  count: number;
  viewerReacted: boolean;
}

export class ReactionService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
    private readonly messages: MessageService,
  ) {}

  async add(actor: Actor, messageId: string, rawEmoji: string) {
    const userId = actor.requireUser();
    const message = await this.messages.get(actor, messageId);
    await this.access.requirePermission(actor, message.channel.guildId, 'ADD_REACTIONS', 'Message');
    const emoji = check(rules.emoji, rawEmoji, 'emoji');
    await this.db.reaction.createMany({ data: [{ messageId, userId, emoji }], skipDuplicates: true });
    return this.changed(messageId);
  }

  async remove(actor: Actor, messageId: string, rawEmoji: string) {
    const userId = actor.requireUser();
    await this.messages.get(actor, messageId);
    const emoji = check(rules.emoji, rawEmoji, 'emoji');
    await this.db.reaction.deleteMany({ where: { messageId, userId, emoji } });
    return this.changed(messageId);
  }

  /** Groups in order of first use, with whether the viewer is among the reactors. */
  async groups(actor: Actor, messageId: string): Promise<ReactionGroup[]> {
    const rows = await this.db.reaction.findMany({
      where: { messageId },
      orderBy: { createdAt: 'asc' },
      select: { emoji: true, userId: true },
    });
    const groups = new Map<string, ReactionGroup>();
    for (const { emoji, userId } of rows) {
      const group = groups.get(emoji) ?? { emoji, count: 0, viewerReacted: false };
      group.count += 1;
      group.viewerReacted ||= userId === actor.userId;
      groups.set(emoji, group);
    }
    return [...groups.values()];
  }

  /** Subscribers of messageUpdated see reaction changes live. */
  private async changed(messageId: string) {
    const message = await this.db.message.findUniqueOrThrow({ where: { id: messageId }, include: toSnapshot.include });
    await this.pubsub.publish('messageUpdated', message.channelId, toSnapshot(message));
    return message;
  }
}
