// The two hottest statements, in SQL because Prisma takes a round trip per relation:
// - sending: one statement checks the sender's channel and permission, stores the message,
//   checks and loads its reply target, stores the mentions of members, moves the sender's read
//   marker, and returns what the event carries;
// - reading history: one statement returns a page with each message's author, attachments,
//   mentions, reactions and reply target, as the same snapshots events carry.
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { type Statements, arg, prepared } from '../db/statements.js';
import { type ProfileColumns, profileSnapshot } from './snapshots.js';
import type {
  AttachmentSnapshot,
  ChannelSnapshot,
  MessageSnapshot,
  RepliedMessageSnapshot,
  UserSnapshot,
} from '../pubsub/topics.js';

export interface NewMessage {
  id: string;
  channelId: string;
  authorId: string;
  content: string;
  replyToId: string | null;
  /** candidates; only those who may view the channel (other than the author) are kept */
  mentionIds: readonly string[];
  /** the sender's idempotency key: claimed with the insert, or the insert does not happen */
  nonce: string | null;
  /** permission bits the author must hold in the channel */
  needed: bigint;
  /** a DM or group chat is stored only once the service has checked that the other side takes it */
  directChecked: boolean;
}

export type SendOutcome =
  /** no such channel, or one the author may not view */
  | { refused: 'not-found' }
  /** a DM or group chat whose other side the service must check first; nothing was stored */
  | { refused: 'direct' | 'forbidden' | 'not-text' }
  /** stored: `message` is what the event carries. Not stored: `message` is null when the reply
   *  target is no message of the channel, 'nonce-taken' when another send claimed the nonce */
  | { refused: null; message: MessageSnapshot | null | 'nonce-taken' };

interface SendRow {
  refusal: 'not-found' | 'direct' | 'forbidden' | 'not-text' | null;
  guildId: string | null;
  channelName: string | null;
  channelType: ChannelSnapshot['type'] | null;
  channelTopic: string | null;
  channelPosition: number | null;
  /** ISO timestamp */
  channelCreatedAt: string | null;
  /** ISO timestamp; null: nothing was stored */
  createdAt: string | null;
  replyFound: boolean | null;
  author: unknown;
  mentions: unknown;
  replyTo: unknown;
}

// with the profile, so that a page of history shows avatars and statuses without a query
const USER_JSON = Prisma.sql`json_build_object('id', u.id, 'username', u.username, 'displayName', u."displayName", 'createdAt', u."createdAt",
  'profile', json_build_object('bio', u.bio, 'avatarName', u."avatarName", 'customStatusText', u."customStatusText",
                               'customStatusEmoji', u."customStatusEmoji", 'customStatusExpiresAt', u."customStatusExpiresAt"))`;

// Several sends in one statement (one round trip, one commit, one INSERT per table), in the
// order given: the function (migration *_send_batch) lives in the database so that its plan
// is kept instead of made again for every batch. Every array goes as text[] and is cast in SQL:
// PGlite serializes a parameter by the type it infers, and would reject '3072' for bigint[].
const SEND_BATCH_STATEMENT = prepared(`
  SELECT out_ord AS ord, out_refusal AS refusal, out_guild_id AS "guildId", out_channel_name AS "channelName",
         out_channel_type AS "channelType", out_channel_topic AS "channelTopic",
         out_channel_position AS "channelPosition", out_channel_created_at AS "channelCreatedAt",
         out_created_at AS "createdAt", out_reply_found AS "replyFound", out_author AS author,
         out_mentions AS mentions, out_reply_to AS "replyTo"
  FROM "chat_send_batch"($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]::bigint[], $9::text[]::boolean[])`);

/** sends of one batch's statement at most (its arrays' length) */
const SEND_BATCH_MAX = 64;
/**
 * Send statements in flight at once: more sends than this at a time wait, and go together.
 * One: since a batch costs PostgreSQL little more than a single send (one INSERT per table),
 * fewer and larger batches beat overlapping ones. Measured (bench, 16 senders): 1,650-1,680
 * messages/s with one in flight against 1,450-1,550 with two, 1,390 with three.
 */
const SENDS_IN_FLIGHT = 1;

interface QueuedSend {
  message: NewMessage;
  resolve(row: SendRow | undefined): void;
  reject(err: unknown): void;
}

/**
 * Group commit for sends. Each socket write to PostgreSQL and each commit costs more CPU
 * here (a wake-up of the server's process) than the statement itself: under concurrent
 * senders, the sends that arrive while a statement is under way are stored by the next
 * statement together. A lone send goes at once, as before. A batch that fails
 * as a whole (a deadlock, a dropped connection) is tried again send by send, so that each
 * send gets its own outcome.
 */
class SendBatcher {
  private readonly queue: QueuedSend[] = [];
  private inFlight = 0;

  constructor(private readonly statements: Statements) {}

  send(message: NewMessage): Promise<SendRow | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < SENDS_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, SEND_BATCH_MAX);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(batch: QueuedSend[]): Promise<void> {
    if (batch.length > 1) {
      const rows = await this.statement(batch.map((q) => q.message)).catch(() => null);
      if (rows) {
        for (const [i, q] of batch.entries()) q.resolve(rows.get(i + 1));
        return;
      }
    }
    await Promise.all(batch.map((q) => this.statement([q.message]).then((rows) => q.resolve(rows.get(1)), q.reject)));
  }

  private async statement(messages: NewMessage[]): Promise<Map<number, SendRow>> {
    const column = (f: (m: NewMessage) => string | null) => arg.texts(messages.map(f) as string[]);
    const rows = await this.statements.rows<SendRow & { ord: number }>(SEND_BATCH_STATEMENT, [
      column((m) => m.id),
      column((m) => m.channelId),
      column((m) => m.authorId),
      column((m) => m.content),
      column((m) => m.replyToId),
      column((m) => JSON.stringify(m.mentionIds)),
      column((m) => m.nonce),
      column((m) => m.needed.toString()),
      column((m) => String(m.directChecked)),
    ]);
    return new Map(rows.map((row) => [row.ord, row]));
  }
}

const batchers = new WeakMap<Statements, SendBatcher>();

/**
 * Checks that the author may send to the channel (its permissions there hold `needed`, in a
 * text channel, a DM or a group chat) and stores the message, in one round trip. Nothing is
 * stored when a check fails, when `replyToId` names no message of the same channel, or when
 * another send already claimed the nonce; the outcome says which.
 */
export async function sendAuthorized(statements: Statements, m: NewMessage): Promise<SendOutcome> {
  let batcher = batchers.get(statements);
  if (!batcher) batchers.set(statements, (batcher = new SendBatcher(statements)));
  const row = await batcher.send(m);
  if (!row || row.refusal === 'not-found') return { refused: 'not-found' };
  if (row.refusal) return { refused: row.refusal };
  if (!row.createdAt) return { refused: null, message: m.replyToId && !row.replyFound ? null : 'nonce-taken' };
  const channel: ChannelSnapshot = {
    id: m.channelId,
    guildId: row.guildId,
    name: row.channelName!,
    type: row.channelType!,
    topic: row.channelTopic,
    position: row.channelPosition!,
    createdAt: utcIso(row.channelCreatedAt!),
  };
  const mentions = json<RawUser[]>(row.mentions).map(userFromJson);
  const reply = json<RawReply | null>(row.replyTo);
  return {
    refused: null,
    message: {
      id: m.id,
      channelId: m.channelId,
      guildId: row.guildId,
      authorId: m.authorId,
      content: m.content,
      createdAt: utcIso(row.createdAt),
      editedAt: null,
      replyToId: m.replyToId,
      nonce: m.nonce,
      author: userFromJson(json(row.author)),
      attachments: [],
      mentionIds: mentions.map((u) => u.id),
      mentions,
      replyTo: reply ? replyFromJson(reply) : null,
      reactions: [],
      channel,
    },
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
      -- the channel as a range (>= and <=), not "=": with "=" the planner drops channelId from
      -- the ordering and may walk the table's id order instead, through every newer message of
      -- other channels (8 ms behind 50,000 of them, against 0.1 ms on the channel's index)
      FROM "Message" m WHERE m."channelId" >= ${q.channel.id} AND m."channelId" <= ${q.channel.id} AND ${beyond}
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
  /** absent from the send statement's author (a message event's fields load it) */
  profile?: Omit<ProfileColumns, 'customStatusExpiresAt'> & { customStatusExpiresAt: string | null };
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
  ...(u.profile
    ? {
        profile: profileSnapshot({
          ...u.profile,
          customStatusExpiresAt: u.profile.customStatusExpiresAt ? new Date(utcIso(u.profile.customStatusExpiresAt)) : null,
        }),
      }
    : {}),
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
