// The two hottest statements, in SQL because Prisma takes a round trip per relation:
// - sending: one statement stores the message, checks and loads its reply target, stores the
//   mentions of members, moves the sender's read marker, and returns what the event carries;
// - reading history: one statement returns a page with each message's author, attachments,
//   mentions, reactions and reply target, as the same snapshots events carry.
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import type {
  AttachmentSnapshot,
  ChannelSnapshot,
  MessageSnapshot,
  RepliedMessageSnapshot,
  UserSnapshot,
} from '../pubsub/topics.js';

export interface NewMessage {
  id: string;
  channel: ChannelSnapshot;
  authorId: string;
  content: string;
  replyToId: string | null;
  /** candidates; only members of the channel's guild (other than the author) are kept */
  mentionIds: readonly string[];
  /** the sender's idempotency key: claimed with the insert, or the insert does not happen */
  nonce: string | null;
}

interface InsertedRow {
  /** null: nothing was stored */
  createdAt: Date | null;
  replyFound: boolean;
  author: unknown;
  mentions: unknown;
  replyTo: unknown;
}

const USER_JSON = Prisma.sql`json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt")`;

/**
 * Stores the message. Nothing is stored, and the answer says why, when `replyToId` names no
 * message of the same channel (null) or another send already claimed the nonce
 * ('nonce-taken'). The caller has authorized the send.
 */
export async function insertMessage(db: Db, m: NewMessage): Promise<MessageSnapshot | null | 'nonce-taken'> {
  // the statement lives in the database as a function (migration *_send_message_function),
  // so that its plan is kept instead of made again for every send
  const rows = await db.$queryRaw<InsertedRow[]>`
    SELECT out_created_at AS "createdAt", out_reply_found AS "replyFound", out_author AS author,
           out_mentions AS mentions, out_reply_to AS "replyTo"
    FROM "chat_send_message"(${m.id}, ${m.channel.id}, ${m.channel.guildId}, ${m.authorId}, ${m.content},
                             ${m.replyToId}::text, ${[...m.mentionIds]}::text[], ${m.nonce}::text)`;
  const row = rows[0];
  if (!row?.createdAt) return m.replyToId && !row?.replyFound ? null : 'nonce-taken';
  const author = userFromJson(json(row.author));
  const mentions = json<RawUser[]>(row.mentions).map(userFromJson);
  const reply = json<RawReply | null>(row.replyTo);
  return {
    id: m.id,
    channelId: m.channel.id,
    guildId: m.channel.guildId,
    authorId: m.authorId,
    content: m.content,
    createdAt: row.createdAt.toISOString(),
    editedAt: null,
    replyToId: m.replyToId,
    nonce: m.nonce,
    author,
    attachments: [],
    mentionIds: mentions.map((u) => u.id),
    mentions,
    replyTo: reply ? replyFromJson(reply) : null,
    reactions: [],
    channel: m.channel,
  };
}

export interface MessagePageQuery {
  channel: ChannelSnapshot;
  /** rows beyond this id in the fetch direction; null: from the newest (or oldest) */
  cursor: string | null;
  /** desc: newest first (history); asc: oldest first (catch-up after `before`) */
  direction: 'asc' | 'desc';
  take: number;
}

/** A message row as SNAPSHOT_RELATIONS completes it. */
export interface SnapshotRow {
  id: string;
  authorId: string;
  content: string;
  createdAt: Date;
  editedAt: Date | null;
  replyToId: string | null;
  nonce: string | null;
  author: unknown;
  attachments: unknown;
  mentions: unknown;
  reactions: unknown;
  replyTo: unknown;
}

interface PageRow extends SnapshotRow {
  beyondCursor: boolean;
}

const ATTACHMENTS_JSON = (messageId: Prisma.Sql) => Prisma.sql`(
  SELECT coalesce(json_agg(json_build_object('id', a.id, 'fileName', a."fileName", 'storedName', a."storedName",
                                             'contentType', a."contentType", 'size', a.size) ORDER BY a.id), '[]')
  FROM "Attachment" a WHERE a."messageId" = ${messageId})`;

/**
 * The columns that complete a message row named `p` (its own columns: id, "authorId",
 * content, "createdAt", "editedAt", "replyToId", nonce) into a snapshot (snapshotFromRow):
 * its author, attachments, mentions, reactions and reply target, as JSON, in the same
 * statement.
 */
export const SNAPSHOT_RELATIONS = Prisma.sql`
      (SELECT ${USER_JSON} FROM "User" u WHERE u.id = p."authorId") AS author,
      ${ATTACHMENTS_JSON(Prisma.sql`p.id`)} AS attachments,
      (SELECT coalesce(json_agg(${USER_JSON} ORDER BY u.id), '[]')
         FROM "MessageMention" mm JOIN "User" u ON u.id = mm."userId" WHERE mm."messageId" = p.id) AS mentions,
      (SELECT coalesce(json_agg(json_build_object('emoji', g.emoji, 'userIds', g."userIds") ORDER BY g.first, g.emoji), '[]')
         FROM (SELECT r.emoji, min(r."createdAt") AS first, array_agg(r."userId" ORDER BY r."createdAt", r."userId") AS "userIds"
               FROM "Reaction" r WHERE r."messageId" = p.id GROUP BY r.emoji) g) AS reactions,
      (SELECT json_build_object('id', r.id, 'channelId', r."channelId", 'authorId', r."authorId", 'content', r.content,
                                'createdAt', r."createdAt", 'editedAt', r."editedAt", 'replyToId', r."replyToId",
                                'author', (SELECT ${USER_JSON} FROM "User" u WHERE u.id = r."authorId"),
                                'attachments', ${ATTACHMENTS_JSON(Prisma.sql`r.id`)})
         FROM "Message" r WHERE r.id = p."replyToId") AS "replyTo"`;

/**
 * One page of a channel's messages as snapshots, in fetch order, with whether any message
 * lies on the cursor's other side (at or beyond it): the page the caller did not fetch.
 */
export async function messagePage(db: Db, q: MessagePageQuery): Promise<{ rows: MessageSnapshot[]; otherSide: boolean }> {
  const desc = q.direction === 'desc';
  const order = desc ? Prisma.sql`DESC` : Prisma.sql`ASC`;
  const beyond = q.cursor === null ? Prisma.sql`TRUE` : desc ? Prisma.sql`m.id < ${q.cursor}` : Prisma.sql`m.id > ${q.cursor}`;
  const otherSide =
    q.cursor === null
      ? Prisma.sql`FALSE`
      : Prisma.sql`EXISTS (SELECT 1 FROM "Message" o WHERE o."channelId" = ${q.channel.id}
                           AND ${desc ? Prisma.sql`o.id >= ${q.cursor}` : Prisma.sql`o.id <= ${q.cursor}`})`;
  const rows = await db.$queryRaw<PageRow[]>`
    WITH page AS (
      SELECT m.id, m."authorId", m.content, m."createdAt", m."editedAt", m."replyToId", m.nonce
      FROM "Message" m WHERE m."channelId" = ${q.channel.id} AND ${beyond}
      -- ordered by the whole (channelId, id) key, so that the planner walks the channel's index
      -- instead of the table's id order, skipping other channels' newer rows
      ORDER BY m."channelId" ${order}, m.id ${order} LIMIT ${q.take}
    )
    SELECT p.*, ${SNAPSHOT_RELATIONS},
      ${otherSide} AS "beyondCursor"
    FROM page p ORDER BY p.id ${order}`;
  return {
    otherSide: rows[0]?.beyondCursor ?? false,
    rows: rows.map((r) => snapshotFromRow(r, q.channel)),
  };
}

/** A row of SNAPSHOT_RELATIONS as the snapshot events carry. */
export function snapshotFromRow(r: SnapshotRow, channel: ChannelSnapshot): MessageSnapshot {
  const mentions = json<RawUser[]>(r.mentions).map(userFromJson);
  const reply = json<RawReply | null>(r.replyTo);
  return {
    id: r.id,
    channelId: channel.id,
    guildId: channel.guildId,
    authorId: r.authorId,
    content: r.content,
    createdAt: r.createdAt.toISOString(),
    editedAt: r.editedAt?.toISOString() ?? null,
    replyToId: r.replyToId,
    nonce: r.nonce,
    author: userFromJson(json(r.author)),
    attachments: json<AttachmentSnapshot[]>(r.attachments),
    mentionIds: mentions.map((u) => u.id),
    mentions,
    replyTo: reply ? replyFromJson(reply) : null,
    reactions: json<{ emoji: string; userIds: string[] }[]>(r.reactions),
    channel,
  };
}

interface RawUser {
  id: string;
  username: string;
  displayName: string;
  createdAt: string;
}

interface RawReply {
  id: string;
  channelId: string;
  authorId: string;
  content: string;
  createdAt: string;
  editedAt: string | null;
  replyToId: string | null;
  author: RawUser;
  attachments: AttachmentSnapshot[];
}

/** json columns arrive parsed from node-postgres and as text from some adapters */
export const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

/** JSON of a `timestamp(3)` column has no zone; the column holds UTC. */
export const utcIso = (timestamp: string): string => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(timestamp) ? timestamp : `${timestamp}Z`).toISOString();

const userFromJson = (u: RawUser): UserSnapshot => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  createdAt: utcIso(u.createdAt),
});

const replyFromJson = (r: RawReply): RepliedMessageSnapshot => ({
  id: r.id,
  channelId: r.channelId,
  authorId: r.authorId,
  content: r.content,
  createdAt: utcIso(r.createdAt),
  editedAt: r.editedAt ? utcIso(r.editedAt) : null,
  replyToId: r.replyToId,
  author: userFromJson(r.author),
  attachments: r.attachments,
});
