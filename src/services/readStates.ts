// Per-user read markers and unread counts.
import type { Db } from '../db/client.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput } from './errors.js';

export class ReadStateService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
  ) {}

  /** Messages by others after the viewer's read marker (after joining, with no marker yet). */
  async unreadCount(actor: Actor, channelId: string): Promise<number> {
    const userId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    const marker = await this.db.readState.findUnique({
      where: { userId_channelId: { userId, channelId } },
      select: { lastReadMessageId: true },
    });
    const joined = marker
      ? null
      : await this.db.member.findUnique({
          where: { guildId_userId: { guildId: channel.guildId, userId } },
          select: { joinedAt: true },
        });
    return this.db.message.count({
      where: {
        channelId,
        authorId: { not: userId },
        ...(marker ? { id: { gt: marker.lastReadMessageId } } : { createdAt: { gt: joined?.joinedAt ?? new Date(0) } }),
      },
    });
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
}
