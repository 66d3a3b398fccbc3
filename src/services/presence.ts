// Presence: ONLINE while a user has a live connection on any instance (unless they chose
// IDLE, DND or INVISIBLE), OFFLINE otherwise. Connections are kept alive by heartbeats; a
// crashed instance's connections lapse and the next sweep of any instance reports them.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/client.js';
import type { PresenceStatusName, PubSub } from '../pubsub/topics.js';
import type { ConnectionRegistry } from '../realtime/registries.js';
import type { Actor } from './actor.js';
import { LeaseKeeper } from './leases.js';
import { loadUserSnapshot } from './snapshots.js';

type Preference = 'ONLINE' | 'IDLE' | 'DND' | 'INVISIBLE';

const shownAs = (preference: Preference): PresenceStatusName => (preference === 'INVISIBLE' ? 'OFFLINE' : preference);

export class PresenceService {
  /** this instance's live connections: connectionId → userId */
  private readonly local = new Map<string, string>();
  private readonly leases: LeaseKeeper;

  constructor(
    private readonly db: Db,
    private readonly pubsub: PubSub,
    private readonly registry: ConnectionRegistry,
    /** a user whose last connection died is OFFLINE within this time */
    ttlMs: number,
    onError: (err: unknown) => void = () => {},
    /** who may see whose presence: the user themself and those sharing a guild with them */
    private readonly visibility?: { canSee(actor: Actor, userId: string): Promise<boolean> },
  ) {
    this.leases = new LeaseKeeper(ttlMs, () => this.tick(), onError);
  }

  private get connectionLifetime() {
    return this.leases.lifetime;
  }

  start(): void {
    this.leases.start();
  }

  /** Ends this instance's connections (graceful shutdown): their users may go OFFLINE. */
  async stop(): Promise<void> {
    await this.leases.stop();
    await Promise.all([...this.local].map(([connectionId, userId]) => this.disconnected(userId, connectionId)));
  }

  connected(userId: string): Promise<string> {
    // hex of random bytes is one flat string; randomUUID builds a tree of concatenations that
    // every open connection would keep
    const connectionId = randomBytes(12).toString('hex');
    this.local.set(connectionId, userId);
    return this.track(
      (async () => {
        if (await this.registry.connect(userId, connectionId, Date.now() + this.connectionLifetime)) {
          await this.announce(userId, 'connected');
        }
        return connectionId;
      })(),
    );
  }

  disconnected(userId: string, connectionId: string): Promise<void> {
    if (!this.local.delete(connectionId)) return Promise.resolve();
    return this.track(
      (async () => {
        if (await this.registry.disconnect(userId, connectionId)) await this.announce(userId, 'disconnected');
      })(),
    );
  }

  private track<T>(work: Promise<T>): Promise<T> {
    return this.leases.track(work);
  }

  async setPreference(actor: Actor, status: PresenceStatusName) {
    const userId = actor.requireUser();
    const preference: Preference = status === 'OFFLINE' ? 'INVISIBLE' : status;
    const user = await this.db.user.update({ where: { id: userId }, data: { presencePreference: preference } });
    if ((await this.registry.onlineAmong([userId])).has(userId)) await this.announce(userId, 'preference');
    return user;
  }

  /** The status the actor may see: the real one for themself and guildmates, OFFLINE for anyone else. */
  async statusFor(actor: Actor, userId: string): Promise<PresenceStatusName> {
    if (this.visibility && !(await this.visibility.canSee(actor, userId))) return 'OFFLINE';
    return this.statusOf(userId);
  }

  /** The status itself, for those entitled to it (a guild's own events). */
  async statusOf(userId: string): Promise<PresenceStatusName> {
    const online = await this.registry.onlineAmong([userId]);
    if (!online.has(userId)) return 'OFFLINE';
    const user = await this.db.user.findUnique({ where: { id: userId }, select: { presencePreference: true } });
    return shownAs(user?.presencePreference ?? 'ONLINE');
  }

  /** Members of a guild shown as online; empty for a non-member. */
  async onlineMembers(actor: Actor, guildId: string) {
    if (!(await actor.membership(guildId))) return [];
    const members = await this.db.member.findMany({ where: { guildId }, select: { userId: true } });
    const online = await this.registry.onlineAmong(members.map((m) => m.userId));
    if (online.size === 0) return [];
    return this.db.user.findMany({
      where: { id: { in: [...online] }, presencePreference: { not: 'INVISIBLE' } },
      orderBy: { id: 'asc' },
    });
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const connections = [...this.local].map(([connectionId, userId]) => ({ userId, connectionId }));
    await this.registry.heartbeat(connections, now + this.connectionLifetime);
    for (const userId of await this.registry.sweep(now)) await this.announce(userId, 'disconnected');
  }

  /** Publishes the user's status to each guild they belong to. */
  private async announce(userId: string, change: 'connected' | 'disconnected' | 'preference'): Promise<void> {
    const user = await this.db.user.findUnique({
      where: { id: userId },
      select: { presencePreference: true, memberships: { select: { guildId: true } } },
    });
    // An invisible user's comings and goings are nobody's business; only choosing tells.
    if (!user || (user.presencePreference === 'INVISIBLE' && change !== 'preference')) return;
    const status = change === 'disconnected' ? 'OFFLINE' : shownAs(user.presencePreference);
    const snapshot = await loadUserSnapshot(this.db, userId);
    await Promise.all(
      user.memberships.map(({ guildId }) => this.pubsub.publish('presence', guildId, { guildId, user: snapshot, status })),
    );
  }
}
