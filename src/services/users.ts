import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import type { Actor } from './actor.js';
import { notFound } from './errors.js';
import { type PageArgs, pageById } from './pagination.js';
import { type RateLimits, addressKey } from './rateLimits.js';
import { check, rules } from './validation.js';

export interface UserCounters {
  messageCount: number;
  ownedGuildCount: number;
}

export class UserService {
  /** one batching loader per operation (the Actor lives exactly as long) */
  private readonly counterLoaders = new WeakMap<Actor, DataLoader<string, UserCounters>>();
  /** per operation: which users share a guild with the actor */
  private readonly visibilityLoaders = new WeakMap<Actor, DataLoader<string, boolean>>();

  constructor(
    private readonly db: Db,
    private readonly limits?: RateLimits,
  ) {}

  /**
   * Whether the actor may see this user's profile and presence: themself, or someone sharing
   * a guild with them. The users of one operation are answered by one query.
   */
  canSee(actor: Actor, userId: string): Promise<boolean> {
    const viewerId = actor.userId;
    if (!viewerId) return Promise.resolve(false);
    if (userId === viewerId) return Promise.resolve(true);
    let loader = this.visibilityLoaders.get(actor);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        const rows = await this.db.user.findMany({
          where: { id: { in: [...ids] }, ...this.sharesGuildWith(viewerId) },
          select: { id: true },
        });
        const seen = new Set(rows.map((r) => r.id));
        return ids.map((id) => seen.has(id));
      });
      this.visibilityLoaders.set(actor, loader);
    }
    return loader.load(userId);
  }

  /** Profile counters of users loaded without them; a list of authors costs one query. */
  counters(actor: Actor, userId: string): Promise<UserCounters> {
    let loader = this.counterLoaders.get(actor);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        const rows = await this.db.user.findMany({
          where: { id: { in: [...ids] } },
          select: { id: true, messageCount: true, ownedGuildCount: true },
        });
        const byId = new Map(rows.map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? { messageCount: 0, ownedGuildCount: 0 });
      });
      this.counterLoaders.set(actor, loader);
    }
    return loader.load(userId);
  }

  /** The actor, or a user who shares a guild with them; anyone else is NOT_FOUND. */
  async get(actor: Actor, userId: string) {
    const viewerId = actor.requireUser();
    const user = await this.db.user.findFirst({
      where: { id: userId, ...(userId === viewerId ? {} : this.sharesGuildWith(viewerId)) },
    });
    if (!user) throw notFound('User');
    return user;
  }

  /** A user's email, for showing it to that user alone (the caller checked who asks). */
  async ownEmail(userId: string): Promise<string | null> {
    return (await this.db.user.findUnique({ where: { id: userId }, select: { email: true } }))?.email ?? null;
  }

  /** The signed-in user; null when anonymous, UNAUTHENTICATED when a token was refused. */
  async viewer(actor: Actor) {
    if (actor.authError) throw actor.authError;
    return actor.userId ? this.db.user.findUnique({ where: { id: actor.userId } }) : null;
  }

  /**
   * People the actor can find: those sharing a guild whose username or display name starts
   * with `search`. A stranger is never found (their profile and presence are not the
   * actor's to read), except by exact username someone banned from a guild the actor belongs
   * to, so the guild can unban them. Counted per client address (SEARCH_RATE_LIMIT).
   */
  async search(actor: Actor, search: string | null | undefined, page: PageArgs, clientAddress?: string | null) {
    const viewerId = actor.requireUser();
    await this.limits?.consume('search', addressKey(clientAddress));
    const term = check(rules.search, search ?? '', 'search').trim();
    // LIKE treats _ and % as wildcards; a search means the characters themselves
    const prefix = term.replace(/[\\%_]/g, '\\$&');
    const where = term
      ? {
          OR: [
            { usernameKey: term.toLowerCase(), bans: { some: { guild: { members: { some: { userId: viewerId } } } } } },
            {
              OR: [{ id: viewerId }, this.sharesGuildWith(viewerId)],
              AND: {
                OR: [
                  { usernameKey: { startsWith: prefix.toLowerCase() } },
                  { displayName: { startsWith: prefix, mode: 'insensitive' as const } },
                ],
              },
            },
          ],
        }
      : { OR: [{ id: viewerId }, this.sharesGuildWith(viewerId)] };
    return pageById(this.db.user, where, page);
  }

  /** Someone sharing a guild, a DM or a group chat with the viewer. */
  private sharesGuildWith(viewerId: string) {
    return {
      OR: [
        { memberships: { some: { guild: { members: { some: { userId: viewerId } } } } } },
        { channelRecipients: { some: { channel: { recipients: { some: { userId: viewerId } } } } } },
      ],
    };
  }
}
