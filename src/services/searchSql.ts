// The statements of message search (src/services/search.ts), in SQL because full-text search
// (the tsvector column "Message".search, its GIN index, websearch_to_tsquery, ts_rank,
// ts_headline) is beyond Prisma, and because a page of results comes back in one statement
// as the snapshots history pages carry.
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import type { ChannelSnapshot, MessageSnapshot } from '../pubsub/topics.js';
import { idFloorAt } from './ids.js';
import { SNAPSHOT_RELATIONS, type SnapshotRow, json, snapshotFromRow, utcIso } from './messageSql.js';

/**
 * THE visibility rule of search: the ids of the channels `userId` may read, as a subquery.
 * Today a user reads every channel of the guilds they are a member of. Search shows nothing
 * outside this set, whatever the filters; a rule that narrows reading (per-channel
 * permission overwrites, private channels, direct messages) replaces this one function.
 */
export const readableChannelIds = (userId: string): Prisma.Sql => Prisma.sql`
  SELECT c.id FROM "Channel" c JOIN "Member" mb ON mb."guildId" = c."guildId" WHERE mb."userId" = ${userId}`;

/** The text search configuration of the generated column (migration *_message_search). */
const CONFIG = Prisma.sql`'simple'::regconfig`;

/** Around each matched word of ts_headline's output: characters that content is stripped of. */
const MARK_START = '\uE000';
const MARK_END = '\uE001';

export interface SearchFilter {
  viewerId: string;
  /** the user's words, parsed by websearch_to_tsquery (never a syntax error) */
  text: string;
  guildId?: string;
  channelId?: string;
  authorId?: string;
  mentionsId?: string;
  hasAttachment: boolean;
  hasLink: boolean;
  /** messages created strictly before / after these instants */
  sentBefore?: Date;
  sentAfter?: Date;
  /** only ids below this one (a page's snapshot of "now", or a NEWEST cursor) */
  idBelow?: string;
}

/** How far ids and "createdAt" may disagree: ids are made by the app, "createdAt" by the database. */
const CLOCK_SLACK_MS = 60_000;

/** Every condition a hit satisfies, on "Message" m. */
function matching(f: SearchFilter): Prisma.Sql {
  const tsquery = Prisma.sql`websearch_to_tsquery(${CONFIG}, ${f.text})`;
  const conditions: Prisma.Sql[] = [
    Prisma.sql`m.search @@ ${tsquery}`,
    Prisma.sql`m."channelId" IN (${readableChannelIds(f.viewerId)})`,
  ];
  if (f.channelId) conditions.push(Prisma.sql`m."channelId" = ${f.channelId}`);
  if (f.guildId) conditions.push(Prisma.sql`m."channelId" IN (SELECT g.id FROM "Channel" g WHERE g."guildId" = ${f.guildId})`);
  if (f.authorId) conditions.push(Prisma.sql`m."authorId" = ${f.authorId}`);
  if (f.mentionsId)
    conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM "MessageMention" mm WHERE mm."messageId" = m.id AND mm."userId" = ${f.mentionsId})`);
  if (f.hasAttachment) conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM "Attachment" a WHERE a."messageId" = m.id)`);
  // a link is a URL with its scheme, as clients turn them into links
  if (f.hasLink) conditions.push(Prisma.sql`m.content ~* 'https?://[^[:space:]]'`);
  // the time bounds as id ranges too (ids start with their time), so that they narrow the
  // index walk, and exactly on "createdAt"
  if (f.sentBefore) {
    conditions.push(Prisma.sql`m."createdAt" < ${f.sentBefore}`);
    conditions.push(Prisma.sql`m.id < ${idFloorAt(f.sentBefore.getTime() + CLOCK_SLACK_MS)}`);
  }
  if (f.sentAfter) {
    conditions.push(Prisma.sql`m."createdAt" > ${f.sentAfter}`);
    conditions.push(Prisma.sql`m.id >= ${idFloorAt(f.sentAfter.getTime() - CLOCK_SLACK_MS)}`);
  }
  if (f.idBelow) conditions.push(Prisma.sql`m.id < ${f.idBelow}`);
  return Prisma.join(conditions, ' AND ');
}

export interface RankedId {
  id: string;
  rank: number;
}

interface HitRow extends SnapshotRow {
  rank: number;
  marked: string;
  channel: unknown;
}

export interface SearchRow {
  message: MessageSnapshot;
  rank: number;
  /** [start, end) UTF-16 offsets of the matched words in message.content */
  highlights: { start: number; end: number }[];
  /** the matched words, lower-cased, in order of first appearance */
  matchedTerms: string[];
}

/**
 * Relevance order: the newest `candidates` matches, ranked (ts_rank, normalized by length so
 * that a word in a short message ranks above the same word in a long one), newest first among
 * equal ranks, from after the (rank, id) `cursor`. Ranking every match of a common word would
 * read each of its rows; the newest `candidates` are found by walking the index in id order.
 */
export async function searchByRelevance(
  db: Db,
  f: SearchFilter,
  candidates: number,
  cursor: RankedId | null,
  take: number,
): Promise<SearchRow[]> {
  const tsquery = Prisma.sql`websearch_to_tsquery(${CONFIG}, ${f.text})`;
  const beyond = cursor ? Prisma.sql`(c.rank, c.id) < (${cursor.rank}::real, ${cursor.id})` : Prisma.sql`TRUE`;
  return hits(
    db,
    f.text,
    Prisma.sql`
      WITH candidates AS (
        SELECT m.id, ts_rank(m.search, ${tsquery}, 1) AS rank FROM "Message" m
        WHERE ${matching(f)} ORDER BY m.id DESC LIMIT ${candidates}
      )
      SELECT c.id, c.rank FROM candidates c WHERE ${beyond} ORDER BY c.rank DESC, c.id DESC LIMIT ${take}`,
    Prisma.sql`h.rank DESC, h.id DESC`,
  );
}

/** Newest first, every match, from below the id in the filter. */
export async function searchByDate(db: Db, f: SearchFilter, take: number): Promise<SearchRow[]> {
  const tsquery = Prisma.sql`websearch_to_tsquery(${CONFIG}, ${f.text})`;
  return hits(
    db,
    f.text,
    Prisma.sql`SELECT m.id, ts_rank(m.search, ${tsquery}, 1) AS rank FROM "Message" m
               WHERE ${matching(f)} ORDER BY m.id DESC LIMIT ${take}`,
    Prisma.sql`h.id DESC`,
  );
}

/** Matches, counted up to `cap` (the count stops reading there). */
export async function countMatches(db: Db, f: SearchFilter, cap: number): Promise<number> {
  const [row] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM "Message" m WHERE ${matching(f)} LIMIT ${cap}) x`;
  return row?.n ?? 0;
}

/** The page `ranked` selects (id, rank), each hit as a snapshot with its highlighted words. */
async function hits(db: Db, text: string, ranked: Prisma.Sql, order: Prisma.Sql): Promise<SearchRow[]> {
  const rows = await db.$queryRaw<HitRow[]>`
    WITH h AS (${ranked})
    SELECT p.id, p."authorId", p.content, p."createdAt", p."editedAt", p."replyToId", p.nonce, h.rank,
      ${SNAPSHOT_RELATIONS},
      (SELECT json_build_object('id', c.id, 'guildId', c."guildId", 'name', c.name, 'type', c.type, 'topic', c.topic,
                                'position', c.position, 'createdAt', c."createdAt")
         FROM "Channel" c WHERE c.id = p."channelId") AS channel,
      -- the whole content with every matched word marked; the markers are taken out of the
      -- content first (one UTF-16 unit for one), so that offsets into this are offsets into it
      ts_headline(${CONFIG}, translate(p.content, ${MARK_START + MARK_END}, ${'\uFFFD\uFFFD'}),
                  websearch_to_tsquery(${CONFIG}, ${text}),
                  ${`HighlightAll=true, StartSel=${MARK_START}, StopSel=${MARK_END}`}) AS marked
    FROM h JOIN "Message" p ON p.id = h.id
    ORDER BY ${order}`;
  return rows.map((r) => {
    const raw = json<ChannelSnapshot & { createdAt: string }>(r.channel);
    const channel: ChannelSnapshot = { ...raw, createdAt: utcIso(raw.createdAt) };
    return { message: snapshotFromRow(r, channel), rank: Number(r.rank), ...marks(r.marked) };
  });
}

/** The offsets and words between the markers of ts_headline's output. */
export function marks(marked: string): Pick<SearchRow, 'highlights' | 'matchedTerms'> {
  const highlights: SearchRow['highlights'] = [];
  const terms = new Set<string>();
  let offset = 0;
  let start = -1;
  let word = '';
  for (const ch of marked) {
    if (ch === MARK_START) {
      start = offset;
      word = '';
    } else if (ch === MARK_END) {
      if (start >= 0 && offset > start) {
        highlights.push({ start, end: offset });
        terms.add(word.toLowerCase());
      }
      start = -1;
    } else {
      offset += ch.length;
      if (start >= 0) word += ch;
    }
  }
  return { highlights, matchedTerms: [...terms] };
}
