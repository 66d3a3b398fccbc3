import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import type { ProfileSnapshot } from '../pubsub/topics.js';
import type { Actor } from './actor.js';
import { notFound } from './errors.js';
import { type PageArgs, finishPage, planPage } from './pagination.js';
import { type RateLimits, addressKey } from './rateLimits.js';
import { PROFILE_COLUMNS, profileSnapshot } from './snapshots.js';
import { directoryCount, directoryHasAny, directoryPage } from './userSearch.js';
import { check, rules } from './validation.js';

export interface UserCounters {
  messageCount: number;
  ownedGuildCount: number;
}

export class UserService {
  /** one batching loader per operation (the Actor lives exactly as long) */
  private readonly counterLoaders = new WeakMap<Actor, DataLoader<string, UserCounters>>();
  /** per operation: profiles of users that came without them (a message's author) */
  private readonly profileLoaders = new WeakMap<Actor, DataLoader<string, ProfileSnapshot | null>>();
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

  /** Profiles of users loaded without them; a list of authors costs one query. */
  profile(actor: Actor, userId: string): Promise<ProfileSnapshot | null> {
    let loader = this.profileLoaders.get(actor);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        const rows = await this.db.user.findMany({ where: { id: { in: [...ids] } }, select: { id: true, ...PROFILE_COLUMNS } });
        const byId = new Map(rows.map((r) => [r.id, profileSnapshot(r)]));
        return ids.map((id) => byId.get(id) ?? null);
      });
      this.profileLoaders.set(actor, loader);
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

  /** A user's own settings, for showing them to that user alone (the caller checked who asks). */
  async ownSettings(userId: string): Promise<{ discoverable: boolean } | null> {
    return this.db.user.findUnique({ where: { id: userId }, select: { discoverable: true } });
  }

  /** The signed-in user; null when anonymous, UNAUTHENTICATED when a token was refused. */
  async viewer(actor: Actor) {
    if (actor.authError) throw actor.authError;
    return actor.userId ? this.db.user.findUnique({ where: { id: actor.userId } }) : null;
  }

  /**
   * The directory: with a search term, everyone on the instance whose username or display
   * name starts with it (ignoring case), except those who turned `discoverable` off and share
   * no guild with the actor; without one, the actor and their guildmates. Also found, by exact
   * username only: someone banned from a guild of the actor's, so the guild can unban them.
   * Ordered by username then id. Counted per user and per client address (SEARCH_RATE_LIMIT
   * each), against scraping.
   */
  async search(actor: Actor, search: string | null | undefined, page: PageArgs, clientAddress?: string | null) {
    const viewerId = actor.requireUser();
    await this.limits?.consume('search', `user:${viewerId}`);
    await this.limits?.consume('search', addressKey(clientAddress));
    const term = check(rules.search, search ?? '', 'search').trim();
    const plan = planPage(page, 'asc');
    const cursor = plan.backwards ? page.before : page.after;
    const beyond = (userId: string, direction: 'asc' | 'desc') => ({ userId, direction });
    const rows = await directoryPage(this.db, {
      viewerId,
      term,
      beyond: cursor ? beyond(cursor, plan.direction) : undefined,
      direction: plan.direction,
      take: plan.take,
    });
    const result = await finishPage(rows, plan, 'asc', Boolean(cursor), (id) =>
      directoryHasAny(this.db, { viewerId, term, beyond: id.gt ? beyond(id.gt, 'asc') : beyond(id.lt!, 'desc') }),
    );
    return { ...result, totalCount: () => directoryCount(this.db, { viewerId, term }) };
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
