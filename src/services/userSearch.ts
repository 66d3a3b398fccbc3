// The directory's statement, in SQL because Prisma cannot compare lower("displayName") (the
// expression the prefix index of migration *_people is built on) nor page by a row value
// (usernameKey, id). One statement per page; the indexes make a prefix two index ranges.
import { Prisma } from '../generated/prisma/client.js';
import type { User } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';

export interface DirectoryQuery {
  viewerId: string;
  /** the search as typed (trimmed); '' lists the viewer and their guildmates only */
  term: string;
  /** rows strictly beyond this user in the order (usernameKey, id), in `direction` */
  beyond?: { userId: string; direction: 'asc' | 'desc' };
  direction: 'asc' | 'desc';
  take: number;
}

// LIKE treats _ and % as wildcards (and \ as their escape); a search means the characters themselves
const likePrefix = (term: string) => `${term.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * Who the viewer may find: themself and guildmates always; with a search term, anyone
 * discoverable whose username or display name starts with it, and, by exact username, someone
 * banned from a guild of the viewer's (so the guild can find them to unban them).
 */
function matching(q: Pick<DirectoryQuery, 'viewerId' | 'term'>): Prisma.Sql {
  const mates = Prisma.sql`(u.id = ${q.viewerId} OR EXISTS (
    SELECT 1 FROM "Member" theirs JOIN "Member" mine ON mine."guildId" = theirs."guildId"
    WHERE theirs."userId" = u.id AND mine."userId" = ${q.viewerId}))`;
  if (!q.term) return mates;
  const key = q.term.toLowerCase();
  const pattern = likePrefix(q.term);
  return Prisma.sql`(
    ((u."usernameKey" LIKE ${likePrefix(key)} OR lower(u."displayName") LIKE lower(${pattern}))
      AND (u.discoverable OR ${mates}))
    OR (u."usernameKey" = ${key} AND EXISTS (
      SELECT 1 FROM "Ban" b JOIN "Member" mine ON mine."guildId" = b."guildId"
      WHERE b."userId" = u.id AND mine."userId" = ${q.viewerId})))`;
}

const beyond = (b: DirectoryQuery['beyond']): Prisma.Sql =>
  !b
    ? Prisma.empty
    : b.direction === 'asc'
      ? Prisma.sql`AND (u."usernameKey", u.id) > ((SELECT "usernameKey" FROM "User" WHERE id = ${b.userId}), ${b.userId})`
      : Prisma.sql`AND (u."usernameKey", u.id) < ((SELECT "usernameKey" FROM "User" WHERE id = ${b.userId}), ${b.userId})`;

export async function directoryPage(db: Db, q: DirectoryQuery): Promise<User[]> {
  const order = q.direction === 'asc' ? Prisma.sql`ASC` : Prisma.sql`DESC`;
  return db.$queryRaw<User[]>`
    SELECT u.* FROM "User" u
    WHERE ${matching(q)} ${beyond(q.beyond)}
    ORDER BY u."usernameKey" ${order}, u.id ${order}
    LIMIT ${q.take}`;
}

export async function directoryHasAny(db: Db, q: Omit<DirectoryQuery, 'take' | 'direction'>): Promise<boolean> {
  const rows = await db.$queryRaw<unknown[]>`
    SELECT 1 FROM "User" u WHERE ${matching(q)} ${beyond(q.beyond)} LIMIT 1`;
  return rows.length > 0;
}

export async function directoryCount(db: Db, q: Pick<DirectoryQuery, 'viewerId' | 'term'>): Promise<number> {
  const rows = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM "User" u WHERE ${matching(q)}`;
  return rows[0]?.count ?? 0;
}

/** The statement's plan for a search, for proving that the prefix indexes serve it. */
export async function explainDirectory(db: Pick<Db, '$queryRaw'>, q: Pick<DirectoryQuery, 'viewerId' | 'term'>): Promise<string> {
  const rows = await db.$queryRaw<{ 'QUERY PLAN': string }[]>`
    EXPLAIN SELECT u.id FROM "User" u WHERE ${matching(q)} ORDER BY u."usernameKey", u.id LIMIT 50`;
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}
