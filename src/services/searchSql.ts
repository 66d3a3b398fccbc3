// The statements of message search (src/services/search.ts), in SQL because full-text search
// (the tsvector column "Message".search, its GIN index, websearch_to_tsquery, ts_rank,
// ts_headline) is beyond Prisma, and because a page of results comes back in one statement
// as the snapshots history pages carry.
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import type { ChannelSnapshot, MessageSnapshot } from '../pubsub/topics.js';
import { idFloorAt } from './ids.js';
import { readableChannelIds } from './access.js';
import { SNAPSHOT_RELATIONS, type SnapshotRow, json, snapshotFromRow, utcIso } from './messageSql.js';

/** The text search configuration of the generated column (migration *_message_search). */
const CONFIG = Prisma.sql`'simple'::regconfig`;

/** Around each matched word of ts_headline's output: characters that content is stripped of. */
const MARK_START = '\uE000';
const MARK_END = '\uE001';

export interface SearchFilter {
  /** the user's words, parsed by websearch_to_tsquery (never a syntax error) */
  text: string;
  /** the channels searched: those the viewer may read, within the guild and channel asked for */
  channelIds: readonly string[];
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

/**
 * The channels a search of `viewerId` covers: readable by them (readableChannelIds), in
 * `guildId` and equal to `channelId` when given. One short statement before the search, so
 * that the search can walk each channel's own index (newestMatches).
 */
export async function searchableChannels(db: Db, viewerId: string, within: { guildId?: string; channelId?: string }): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT r.id FROM (${readableChannelIds(viewerId)}) AS r(id)
    WHERE ${within.channelId ? Prisma.sql`r.id = ${within.channelId}` : Prisma.sql`TRUE`}
      AND ${within.guildId ? Prisma.sql`r.id IN (SELECT g.id FROM "Channel" g WHERE g."guildId" = ${within.guildId})` : Prisma.sql`TRUE`}`;
  return rows.map((r) => r.id);
}

/** How far ids and "createdAt" may disagree: ids are made by the app, "createdAt" by the database. */
const CLOCK_SLACK_MS = 60_000;

/**
 * The conditions of a hit on "Message" m besides its words and its channel, in two parts:
 * those that bound a walk over an index in id order (id ranges), and the others.
 */
function narrowing(f: SearchFilter): { range: Prisma.Sql; rest: Prisma.Sql } {
  const range: Prisma.Sql[] = [Prisma.sql`TRUE`];
  const rest: Prisma.Sql[] = [Prisma.sql`TRUE`];
  if (f.idBelow) range.push(Prisma.sql`m.id < ${f.idBelow}`);
  // the time bounds as id ranges (ids start with their time), and exactly on "createdAt"
  if (f.sentBefore) {
    range.push(Prisma.sql`m.id < ${idFloorAt(f.sentBefore.getTime() + CLOCK_SLACK_MS)}`);
    rest.push(Prisma.sql`m."createdAt" < ${f.sentBefore}`);
  }
  if (f.sentAfter) {
    range.push(Prisma.sql`m.id >= ${idFloorAt(f.sentAfter.getTime() - CLOCK_SLACK_MS)}`);
    rest.push(Prisma.sql`m."createdAt" > ${f.sentAfter}`);
  }
  if (f.authorId) rest.push(Prisma.sql`m."authorId" = ${f.authorId}`);
  if (f.mentionsId)
    rest.push(Prisma.sql`EXISTS (SELECT 1 FROM "MessageMention" mm WHERE mm."messageId" = m.id AND mm."userId" = ${f.mentionsId})`);
  if (f.hasAttachment) rest.push(Prisma.sql`EXISTS (SELECT 1 FROM "Attachment" a WHERE a."messageId" = m.id)`);
  // a link is a URL with its scheme, as clients turn them into links
  if (f.hasLink) rest.push(Prisma.sql`m.content ~* 'https?://[^[:space:]]'`);
  return { range: Prisma.join(range, ' AND '), rest: Prisma.join(rest, ' AND ') };
}

/** How many of the newest readable messages the walk reads: see newestMatches. */
export const SCAN_WINDOW = 5000;

/**
 * Up to this many channels are walked each on its own (channelId, id) index and merged;
 * beyond it, planning one branch per channel costs more than it saves, and the walk follows
 * the id index of all messages instead.
 */
export const MERGED_CHANNELS = 64;

/**
 * `select` over the rows of "Message" m in the searched channels, newest first, `limit` of
 * them. Walking the id index of all messages would step past every newer message of channels
 * the viewer cannot read (on a big instance, nearly all of them); instead each channel's
 * newest rows come from its (channelId, id) index and a Merge Append interleaves them, reading
 * only as far into each channel as the merged order needs. Each branch plans alone, so a busy
 * channel and a quiet one each get the plan that suits them.
 */
function newestPerChannel(
  f: SearchFilter,
  plan: 'walk' | 'index',
  select: Prisma.Sql,
  where: Prisma.Sql,
  limit: number,
  ordered: boolean,
): Prisma.Sql {
  if (f.channelIds.length > MERGED_CHANNELS) {
    // The same rule either way, said so that the planner estimates it as each plan needs: an
    // array it cannot look into keeps it walking the id index; the semi-join (which it
    // believes to be selective) keeps it on the GIN index.
    const ids = Prisma.sql`SELECT unnest(${f.channelIds as string[]}::text[])`;
    const inChannels = plan === 'walk' ? Prisma.sql`m."channelId" = ANY(ARRAY(${ids}))` : Prisma.sql`m."channelId" IN (${ids})`;
    return Prisma.sql`SELECT ${select} FROM "Message" m WHERE ${inChannels} AND ${where}
      ${ordered ? Prisma.sql`ORDER BY m.id DESC` : Prisma.empty} LIMIT ${limit}`;
  }
  const branches = f.channelIds.map(
    (id) => Prisma.sql`(SELECT ${select} FROM "Message" m WHERE m."channelId" = ${id} AND ${where}
      ${ordered ? Prisma.sql`ORDER BY m."channelId" DESC, m.id DESC` : Prisma.empty} LIMIT ${limit})`,
  );
  return Prisma.sql`SELECT * FROM (${Prisma.join(branches, ' UNION ALL ')}) u
    ${ordered ? Prisma.sql`ORDER BY u.id DESC` : Prisma.empty} LIMIT ${limit}`;
}

/**
 * The newest `limit` matches as (id, rank), newest first. Which plan is fast depends on how
 * common the words are:
 * - a common word ("the" is in a quarter of all messages) is found fastest by walking the
 *   messages newest first and testing each: `limit` matches turn up within a few thousand;
 *   listing all of its matches from the GIN index would read each of them;
 * - a rare word is found fastest from the GIN index: it lists few rows, wherever they are.
 * So the statement first walks the newest SCAN_WINDOW searched messages (whatever the other
 * filters, so that the walk costs the same for any search); only when fewer than `limit` of
 * them match (the words, or the filters, are rarer than limit / SCAN_WINDOW) does the index
 * plan run (behind a one-time filter: otherwise it is never executed), channel by channel as
 * well. Either way it is one round trip, and the answer is the same: the newest matches (or,
 * not `ordered`, any `limit` of them: enough for a capped count).
 */
export function newestMatches(f: SearchFilter, limit: number, ordered = true): Prisma.Sql {
  const tsquery = Prisma.sql`websearch_to_tsquery(${CONFIG}, ${f.text})`;
  const { range, rest } = narrowing(f);
  const columns = Prisma.sql`m.id, m.search, m."authorId", m."createdAt", m.content`;
  const ranked = Prisma.sql`m.id, ts_rank(m.search, ${tsquery}, 1) AS rank`;
  return Prisma.sql`
    walked AS MATERIALIZED (
      SELECT ${ranked} FROM (${newestPerChannel(f, 'walk', columns, range, SCAN_WINDOW, true)}) m
      WHERE m.search @@ ${tsquery} AND ${rest} ORDER BY m.id DESC LIMIT ${limit}
    ), indexed AS (
      SELECT * FROM (${newestPerChannel(
        f,
        'index',
        ranked,
        Prisma.sql`(SELECT count(*) FROM walked) < ${limit} AND m.search @@ ${tsquery} AND ${range} AND ${rest}`,
        limit,
        ordered,
      )}) i
    ), newest AS (
      SELECT * FROM walked WHERE (SELECT count(*) FROM walked) >= ${limit}
      UNION ALL
      SELECT * FROM indexed
    )`;
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
 * read each of its rows; the newest `candidates` are found as newestMatches finds them.
 */
export async function searchByRelevance(
  db: Db,
  f: SearchFilter,
  candidates: number,
  cursor: RankedId | null,
  take: number,
): Promise<SearchRow[]> {
  if (f.channelIds.length === 0) return [];
  const beyond = cursor ? Prisma.sql`(n.rank, n.id) < (${cursor.rank}::real, ${cursor.id})` : Prisma.sql`TRUE`;
  return hits(
    db,
    f.text,
    Prisma.sql`WITH ${newestMatches(f, candidates)}
      SELECT n.id, n.rank FROM newest n WHERE ${beyond} ORDER BY n.rank DESC, n.id DESC LIMIT ${take}`,
    Prisma.sql`h.rank DESC, h.id DESC`,
  );
}

/** Newest first, every match, from below the id in the filter. */
export async function searchByDate(db: Db, f: SearchFilter, take: number): Promise<SearchRow[]> {
  if (f.channelIds.length === 0) return [];
  return hits(db, f.text, Prisma.sql`WITH ${newestMatches(f, take)} SELECT n.id, n.rank FROM newest n`, Prisma.sql`h.id DESC`);
}

/** Matches, counted up to `cap` (the count stops reading there). */
export async function countMatches(db: Db, f: SearchFilter, cap: number): Promise<number> {
  if (f.channelIds.length === 0) return 0;
  const [row] = await db.$queryRaw<{ n: number }[]>`WITH ${newestMatches(f, cap, false)} SELECT count(*)::int AS n FROM newest`;
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
