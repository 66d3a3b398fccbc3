// Full-text search over the messages a user may read (searchMessages).
import type { Db } from '../db/client.js';
import type { MessageSnapshot } from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput } from './errors.js';
import { idFloorAt, isId } from './ids.js';
import { DEFAULT_PAGE_SIZE } from './pagination.js';
import type { RateLimits } from './rateLimits.js';
import { type SearchFilter, countMatches, searchByDate, searchByRelevance, searchableChannels } from './searchSql.js';
import { check, rules } from './validation.js';

/** RELEVANCE ranks the newest this many matches (src/services/searchSql.ts says why not all). */
export const SEARCH_CANDIDATES = 100;
/** totalCount counts up to this many matches: "1,000+". */
export const SEARCH_COUNT_CAP = 1000;

export type MessageContentKind = 'ATTACHMENT' | 'LINK';
export type MessageSearchOrder = 'RELEVANCE' | 'NEWEST';

export interface MessageSearchInput {
  query: string;
  guildId?: string | null;
  channelId?: string | null;
  authorId?: string | null;
  mentionsId?: string | null;
  has?: readonly MessageContentKind[] | null;
  sentBefore?: Date | null;
  sentAfter?: Date | null;
  orderBy?: MessageSearchOrder | null;
  first?: number | null;
  after?: string | null;
}

export interface MessageSearchHit {
  message: MessageSnapshot;
  cursor: string;
  rank: number;
  highlights: { start: number; end: number }[];
  matchedTerms: string[];
}

export interface MessageSearchPage {
  hits: MessageSearchHit[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  totalCount: () => Promise<number>;
}

/**
 * Where a page ends, opaque to clients. RELEVANCE: the "now" of the first page (later pages
 * rank the same candidates, whatever was sent since) and the last hit's rank and id. NEWEST:
 * the last hit's id.
 */
type Cursor = { order: 'RELEVANCE'; below: string; rank: number; id: string } | { order: 'NEWEST'; id: string };

const encodeCursor = (c: Cursor): string =>
  Buffer.from(JSON.stringify(c.order === 'RELEVANCE' ? ['r', c.below, c.rank, c.id] : ['n', c.id])).toString('base64url');

function decodeCursor(raw: string, order: MessageSearchOrder): Cursor {
  let parts: unknown[] = [];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(parsed)) parts = parsed;
  } catch {
    // not ours: refused below
  }
  const [kind, a, b, c] = parts;
  if (order === 'RELEVANCE' && kind === 'r' && typeof a === 'string' && isId(a) && typeof b === 'number' && Number.isFinite(b) && typeof c === 'string' && isId(c))
    return { order, below: a, rank: b, id: c };
  if (order === 'NEWEST' && kind === 'n' && typeof a === 'string' && isId(a)) return { order, id: a };
  throw badInput('This cursor is not one of this search order.', 'after');
}

export class SearchService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly limits: RateLimits,
  ) {}

  /**
   * Messages matching `query` in the channels the actor may read (readableChannelIds), with
   * the matched words marked. A guild or channel filter the actor cannot see is NOT_FOUND, as
   * reading it would be. One statement returns a page with everything a message shows.
   */
  async search(actor: Actor, input: MessageSearchInput): Promise<MessageSearchPage> {
    const viewerId = actor.requireUser();
    const text = check(rules.searchQuery, input.query, 'query');
    const size = check(rules.pageSize, input.first ?? DEFAULT_PAGE_SIZE, 'first');
    const order = input.orderBy ?? 'RELEVANCE';
    const cursor = input.after ? decodeCursor(input.after, order) : null;
    const [channelIds] = await Promise.all([
      searchableChannels(this.db, viewerId, { guildId: input.guildId ?? undefined, channelId: input.channelId ?? undefined }),
      this.limits.consume('messageSearch', viewerId),
      input.channelId ? this.access.requireChannel(actor, input.channelId) : null,
      input.guildId ? this.access.requireMember(actor, input.guildId) : null,
    ]);
    const has = new Set(input.has ?? []);
    const base: SearchFilter = {
      text,
      channelIds,
      authorId: input.authorId ?? undefined,
      mentionsId: input.mentionsId ?? undefined,
      hasAttachment: has.has('ATTACHMENT'),
      hasLink: has.has('LINK'),
      sentBefore: input.sentBefore ?? undefined,
      sentAfter: input.sentAfter ?? undefined,
    };
    if (order === 'NEWEST') {
      const filter = { ...base, idBelow: cursor?.id };
      const rows = await searchByDate(this.db, filter, size + 1);
      const page = rows.slice(0, size);
      return {
        hits: page.map((r) => ({ ...r, cursor: encodeCursor({ order, id: r.message.id }) })),
        hasNextPage: rows.length > size,
        hasPreviousPage: cursor !== null,
        totalCount: () => countMatches(this.db, base, SEARCH_COUNT_CAP),
      };
    }
    // the first page fixes "now": later pages rank the same candidates, unmoved by new messages
    const below = cursor?.order === 'RELEVANCE' ? cursor.below : idFloorAt(Date.now() + 1);
    const filter = { ...base, idBelow: below };
    const after = cursor?.order === 'RELEVANCE' ? { rank: cursor.rank, id: cursor.id } : null;
    const rows = await searchByRelevance(this.db, filter, SEARCH_CANDIDATES, after, size + 1);
    const page = rows.slice(0, size);
    return {
      hits: page.map((r) => ({ ...r, cursor: encodeCursor({ order, below, rank: r.rank, id: r.message.id }) })),
      hasNextPage: rows.length > size,
      hasPreviousPage: cursor !== null,
      totalCount: () => countMatches(this.db, filter, SEARCH_COUNT_CAP),
    };
  }
}
