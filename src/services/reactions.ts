// Reactions: one per user per emoji, shown grouped with counts.
import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { notFound } from './errors.js';
import type { PubSub } from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { snapshotInclude, toSnapshot } from './messages.js';
import type { MessageService } from './messages.js';
import { check, rules } from './validation.js';

export interface ReactionGroup {
  emoji: string;
  count: number;
  viewerReacted: boolean;
}

export class ReactionService {
  /** one batching loader per request (the Actor lives exactly as long) */
  private readonly loaders = new WeakMap<Actor, DataLoader<string, ReactionGroup[]>>();

  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
    private readonly messages: MessageService,
  ) {}

  async add(actor: Actor, messageId: string, rawEmoji: string) {
    const userId = actor.requireUser();
    const message = await this.messages.get(actor, messageId);
    await this.access.requireChannelPermission(actor, message.channelId, 'ADD_REACTIONS', 'Message');
    const emoji = check(rules.emoji, rawEmoji, 'emoji');
    try {
      // idempotent: a reaction already there (or added by a racing call) is success
      await this.db.reaction.createMany({ data: [{ messageId, userId, emoji }], skipDuplicates: true });
    } catch (err) {
      // the message was deleted between the check and the write
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2003') throw notFound('Message');
      throw err;
    }
    return this.changed(messageId);
  }

  async remove(actor: Actor, messageId: string, rawEmoji: string) {
    const userId = actor.requireUser();
    await this.messages.get(actor, messageId);
    const emoji = check(rules.emoji, rawEmoji, 'emoji');
    await this.db.reaction.deleteMany({ where: { messageId, userId, emoji } });
    return this.changed(messageId);
  }

  /**
   * Groups in order of first use, with whether the viewer is among the reactors. Calls in
   * one tick (a page of messages) are answered by one query.
   */
  groups(actor: Actor, messageId: string): Promise<ReactionGroup[]> {
    let loader = this.loaders.get(actor);
    if (!loader) {
      // batching only: a mutation that just reacted must read its own write
      loader = new DataLoader((ids) => this.loadGroups(actor.userId, ids), { cache: false });
      this.loaders.set(actor, loader);
    }
    return loader.load(messageId);
  }

  private async loadGroups(viewerId: string | null, messageIds: readonly string[]): Promise<ReactionGroup[][]> {
    const rows = await this.db.reaction.findMany({
      where: { messageId: { in: [...messageIds] } },
      orderBy: [{ createdAt: 'asc' }, { emoji: 'asc' }],
      select: { messageId: true, emoji: true, userId: true },
    });
    const byMessage = new Map<string, Map<string, ReactionGroup>>();
    for (const { messageId, emoji, userId } of rows) {
      let groups = byMessage.get(messageId);
      if (!groups) byMessage.set(messageId, (groups = new Map()));
      const group = groups.get(emoji) ?? { emoji, count: 0, viewerReacted: false };
      group.count += 1;
      group.viewerReacted ||= userId === viewerId;
      groups.set(emoji, group);
    }
    return messageIds.map((id) => [...(byMessage.get(id)?.values() ?? [])]);
  }

  /** Subscribers of messageUpdated see reaction changes live. */
  private async changed(messageId: string) {
    const message = await this.db.message.findUniqueOrThrow({ where: { id: messageId }, include: snapshotInclude });
    await this.pubsub.publish('messageUpdated', message.channelId, toSnapshot(message));
    return message;
  }
}
