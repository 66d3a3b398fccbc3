// Per-user read markers, unread counts and mention counts.
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput } from './errors.js';

export interface UnreadSummary {
  /** text channels with at least one unread message */
  unreadChannelCount: number;
  unreadMessageCount: number;
  /** unread messages that mention the viewer */
  mentionCount: number;
}

export class ReadStateService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
  ) {}

  /** Messages by others after the viewer's read marker (after joining, with no marker yet). */
  async unreadCount(actor: Actor, channelId: string): Promise<number> {
    const userId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    const [where] = await this.unreadFilters(userId, channel.guildId, [channelId]);
    return this.db.message.count({ where });
  }

  /** Unread messages that mention the viewer. */
  async mentionCount(actor: Actor, channelId: string): Promise<number> {
    const userId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    const [where] = await this.unreadFilters(userId, channel.guildId, [channelId]);
    return this.db.message.count({ where: { ...where, mentions: { some: { userId } } } });
  }

  /** The viewer's unread state over a guild's text channels; null for a non-member. */
  async guildSummary(actor: Actor, guildId: string): Promise<UnreadSummary | null> {
    const userId = actor.requireUser();
    if (!(await actor.membership(guildId))) return null;
    const channels = await this.db.channel.findMany({ where: { guildId, type: 'TEXT' }, select: { id: true } });
    const filters = await this.unreadFilters(userId, guildId, channels.map((c) => c.id));
    const counts = await Promise.all(
      filters.map(async (where) => ({
        unread: await this.db.message.count({ where }),
        mentions: await this.db.message.count({ where: { ...where, mentions: { some: { userId } } } }),
      })),
    );
    return {
      unreadChannelCount: counts.filter((c) => c.unread > 0).length,
      unreadMessageCount: counts.reduce((sum, c) => sum + c.unread, 0),
      mentionCount: counts.reduce((sum, c) => sum + c.mentions, 0),
    };
  }

  /** Moves the marker to messageId if that is later than where it stands. */
  async markRead(actor: Actor, channelId: string, messageId: string) {
    const userId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    const message = await this.db.message.findUnique({ where: { id: messageId }, select: { channelId: true } });
    if (!message || message.channelId !== channelId) {
      throw badInput('The message is not in this channel.', 'messageId');
    }
    await this.advance(userId, channelId, messageId);
    return channel;
  }

  /** Forward-only upsert: an older message id never moves the marker back. */
  async advance(userId: string, channelId: string, messageId: string): Promise<void> {
    const moved = await this.db.readState.updateMany({
      where: { userId, channelId, lastReadMessageId: { lt: messageId } },
      data: { lastReadMessageId: messageId },
    });
    if (moved.count === 0) {
      await this.db.readState
        .create({ data: { userId, channelId, lastReadMessageId: messageId } })
        .catch(() => {}); // the row exists and is already at or past messageId
    }
  }

  /** For each channel, the messages that count as unread for the user. */
  private async unreadFilters(userId: string, guildId: string, channelIds: string[]): Promise<Prisma.MessageWhereInput[]> {
    const [markers, member] = await Promise.all([
      this.db.readState.findMany({
        where: { userId, channelId: { in: channelIds } },
        select: { channelId: true, lastReadMessageId: true },
      }),
      this.db.member.findUnique({ where: { guildId_userId: { guildId, userId } }, select: { joinedAt: true } }),
    ]);
    const markerOf = new Map(markers.map((m) => [m.channelId, m.lastReadMessageId]));
    return channelIds.map((channelId) => {
      const marker = markerOf.get(channelId);
      return {
        channelId,
        authorId: { not: userId },
        ...(marker ? { id: { gt: marker } } : { createdAt: { gt: member?.joinedAt ?? new Date(0) } }),
      };
    });
  }
}
