// Per-user read markers, unread counts and mention counts.
//
// Unread and mention counts depend on each viewer's marker, so they are not kept as counters
// (every send would write one row per member). They are counted, but at most
// UNREAD_COUNT_CAP rows of an index range that starts at the marker, so their cost never
// grows with the channel's history. Below the cap a count is exact; at the cap it means
// "that many or more", the "1,000+" chat clients show.
//   unread:   "Message" ("channelId", id) after the marker, skipping the viewer's own
//             messages (few: sending moves the sender's marker past their message)
//   mentions: "MessageMention" ("userId", "channelId", "messageId") after the marker, index
//             only (a message never mentions its author)
// A member without a marker has read nothing since joining: the bound is the greatest ULID of
// their join time (ulid_ceiling, migration 20261201160528_history_counters).
//
// Each count is one SQL statement with the marker lookup inside (Prisma cannot bound a range
// by a subquery). The ranges are written as row comparisons, `(channel, id) > (c, marker) AND
// channel <= c`, rather than `channel = c AND id > marker`: only the composite index can
// serve that, so the planner cannot take "Message_pkey" instead (for a channel parameterized
// by the guild summary it did, and read every newer message of every channel). The ORDER BY
// is the index's order, so no plan is a sequential scan hoping to meet the newest rows early.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput } from './errors.js';
import { Permission } from './permissions.js';

/** The most rows an unread or mention count reads; a count of this many means "this many or more". */
export const UNREAD_COUNT_CAP = 1000;

export interface UnreadSummary {
  /** text channels with at least one unread message */
  unreadChannelCount: number;
  /** at most UNREAD_COUNT_CAP */
  unreadMessageCount: number;
  /** unread messages that mention the viewer, at most UNREAD_COUNT_CAP */
  mentionCount: number;
}

/** A value (a query parameter) or a column of the enclosing query. */
type Operand = string | Prisma.Sql;

/** Up to UNREAD_COUNT_CAP messages of others in the channel after `after`: one range of "Message_channelId_id_idx". */
const unreadMessages = (userId: string, channelId: Operand, after: Operand) => Prisma.sql`
  SELECT 1 FROM "Message" m
  WHERE (m."channelId", m.id) > (${channelId}, ${after}) AND m."channelId" <= ${channelId} AND m."authorId" <> ${userId}
  ORDER BY m."channelId", m.id LIMIT ${UNREAD_COUNT_CAP}`;

/** Up to UNREAD_COUNT_CAP mentions of the user in the channel after `after`: one range of their index. */
const unreadMentions = (userId: string, channelId: Operand, after: Operand) => Prisma.sql`
  SELECT 1 FROM "MessageMention" mm
  WHERE mm."userId" = ${userId} AND (mm."channelId", mm."messageId") > (${channelId}, ${after}) AND mm."channelId" <= ${channelId}
  ORDER BY mm."channelId", mm."messageId" LIMIT ${UNREAD_COUNT_CAP}`;

/** The id after which a channel's messages are unread for the user: their marker, else their
 *  join time (of the guild, or of the DM or group chat). */
const unreadAfter = (userId: string, channelId: string, guildId: string | null) => Prisma.sql`COALESCE(
  (SELECT "lastReadMessageId" FROM "ReadState" WHERE "userId" = ${userId} AND "channelId" = ${channelId}),
  ${
    guildId === null
      ? Prisma.sql`(SELECT ulid_ceiling("joinedAt") FROM "ChannelRecipient" WHERE "channelId" = ${channelId} AND "userId" = ${userId})`
      : Prisma.sql`(SELECT ulid_ceiling("joinedAt") FROM "Member" WHERE "guildId" = ${guildId} AND "userId" = ${userId})`
  },
  '')`;

export class ReadStateService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
  ) {}

  /** Messages by others after the viewer's read marker (after joining, with no marker yet), at most UNREAD_COUNT_CAP. */
  async unreadCount(actor: Actor, channelId: string): Promise<number> {
    const userId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    return this.count(unreadMessages(userId, channelId, unreadAfter(userId, channelId, channel.guildId)));
  }

  /** Unread messages that mention the viewer, at most UNREAD_COUNT_CAP. */
  async mentionCount(actor: Actor, channelId: string): Promise<number> {
    const userId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    return this.count(unreadMentions(userId, channelId, unreadAfter(userId, channelId, channel.guildId)));
  }

  /**
   * The viewer's unread state over the guild's text channels they may view, in one statement; null for a
   * non-member. The totals stop at UNREAD_COUNT_CAP over all channels together (the outer
   * LIMIT ends the per-channel scans), so a guild costs at most that many index entries plus
   * one probe per channel.
   */
  async guildSummary(actor: Actor, guildId: string): Promise<UnreadSummary | null> {
    const userId = actor.requireUser();
    if (!(await actor.membership(guildId))) return null;
    const id = Prisma.raw('c.id');
    const after = Prisma.raw('c.after');
    const [row] = await this.db.$queryRaw<UnreadSummary[]>`
      WITH channel AS (
        SELECT c.id, COALESCE(rs."lastReadMessageId", ulid_ceiling(mb."joinedAt")) AS after
        FROM "Channel" c
        JOIN "Member" mb ON mb."guildId" = c."guildId" AND mb."userId" = ${userId}
        LEFT JOIN "ReadState" rs ON rs."channelId" = c.id AND rs."userId" = ${userId}
        WHERE c."guildId" = ${guildId} AND c.type = 'TEXT'
          AND "chat_channel_permissions"(c.id, ${userId}) & ${Permission.VIEW_CHANNEL} <> 0
      )
      SELECT
        (SELECT count(*)::int FROM channel c WHERE EXISTS (${unreadMessages(userId, id, after)})) AS "unreadChannelCount",
        (SELECT count(*)::int FROM (
          SELECT 1 FROM channel c CROSS JOIN LATERAL (${unreadMessages(userId, id, after)}) unread LIMIT ${UNREAD_COUNT_CAP}
        ) capped) AS "unreadMessageCount",
        (SELECT count(*)::int FROM (
          SELECT 1 FROM channel c CROSS JOIN LATERAL (${unreadMentions(userId, id, after)}) mentioned LIMIT ${UNREAD_COUNT_CAP}
        ) capped) AS "mentionCount"`;
    return row ?? { unreadChannelCount: 0, unreadMessageCount: 0, mentionCount: 0 };
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

  /**
   * Forward-only upsert in one statement: an older message id never moves the marker back,
   * and of racing moves (two tabs, a send and a markRead) the newest wins whatever the order.
   */
  async advance(userId: string, channelId: string, messageId: string): Promise<void> {
    try {
      await this.db.$executeRaw`
        INSERT INTO "ReadState" ("userId", "channelId", "lastReadMessageId", "updatedAt")
        VALUES (${userId}, ${channelId}, ${messageId}, now())
        ON CONFLICT ("userId", "channelId") DO UPDATE
          SET "lastReadMessageId" = EXCLUDED."lastReadMessageId", "updatedAt" = EXCLUDED."updatedAt"
          WHERE "ReadState"."lastReadMessageId" < EXCLUDED."lastReadMessageId"`;
    } catch (err) {
      // the channel (or the user) was deleted meanwhile: there is no marker to keep
      if (err instanceof Prisma.PrismaClientKnownRequestError && (err.code === 'P2003' || /23503|foreign key/i.test(err.message))) return;
      throw err;
    }
  }

  private async count(capped: Prisma.Sql): Promise<number> {
    const [row] = await this.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM (${capped}) capped`;
    return row?.n ?? 0;
  }
}
