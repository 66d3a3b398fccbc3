// Who is here: the members who have a channel open now, on any instance. A channelActivity
// subscription holds the channel open while it lives; several holds of one user (tabs,
// sockets) count once. Holds are kept alive by heartbeats and lapse like presence: a crashed
// instance's users are reported gone by the next sweep of any instance within PRESENCE_TTL_MS.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/client.js';
import type { ChannelActivityPayload, PubSub } from '../pubsub/topics.js';
import type { ActivityRegistry } from '../realtime/registries.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { LeaseKeeper } from './leases.js';
import { loadUserSnapshots } from './snapshots.js';

interface Hold {
  channelId: string;
  userId: string;
}

export class ActivityService {
  /** this instance's holds: holdId → whose, where */
  private readonly local = new Map<string, Hold>();
  private readonly leases: LeaseKeeper;

  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
    private readonly registry: ActivityRegistry,
    /** a user whose holds all died is gone within this time */
    ttlMs: number,
    onError: (err: unknown) => void = () => {},
  ) {
    this.leases = new LeaseKeeper(ttlMs, () => this.tick(), onError);
  }

  private get holdLifetime() {
    return this.leases.lifetime;
  }

  start(): void {
    this.leases.start();
  }

  /** Lets go of this instance's holds (graceful shutdown): their users leave. */
  async stop(): Promise<void> {
    await this.leases.stop();
    await Promise.allSettled([...this.local.keys()].map((holdId) => this.leave(holdId)));
  }

  /** Members with the channel open now, ordered by id; NOT_FOUND for whoever may not read it. */
  async activeUsers(actor: Actor, channelId: string) {
    await this.access.requireChannel(actor, channelId);
    const ids = await this.registry.activeIn(channelId);
    if (ids.length === 0) return [];
    return this.db.user.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  }

  /** Holds the channel open for the user (authorized by the caller); resolves to the hold's id. */
  enter(channelId: string, userId: string): Promise<string> {
    const holdId = randomBytes(12).toString('hex');
    this.local.set(holdId, { channelId, userId });
    return this.track(
      (async () => {
        if (await this.registry.enter(channelId, userId, holdId, Date.now() + this.holdLifetime)) {
          await this.announce(channelId, [userId], []);
        }
        return holdId;
      })(),
    );
  }

  leave(holdId: string): Promise<void> {
    const hold = this.local.get(holdId);
    if (!hold) return Promise.resolve();
    this.local.delete(holdId);
    return this.track(
      (async () => {
        if (await this.registry.leave(hold.channelId, hold.userId, holdId)) await this.announce(hold.channelId, [], [hold.userId]);
      })(),
    );
  }

  /** The channel's list now, as the first event of a subscription. */
  async current(channelId: string): Promise<ChannelActivityPayload> {
    const ids = (await this.registry.activeIn(channelId)).sort();
    return { channelId, users: await loadUserSnapshots(this.db, ids), joined: [], left: [] };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    return this.leases.track(work);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const holds = [...this.local].map(([holdId, { channelId, userId }]) => ({ channelId, userId, holdId }));
    await this.registry.heartbeat(holds, now + this.holdLifetime);
    const byChannel = new Map<string, string[]>();
    for (const { channelId, userId } of await this.registry.sweep(now)) {
      byChannel.set(channelId, [...(byChannel.get(channelId) ?? []), userId]);
    }
    for (const [channelId, left] of byChannel) await this.announce(channelId, [], left);
  }

  /** Publishes the channel's list with who just came and went: one query for every snapshot. */
  private async announce(channelId: string, joined: string[], left: string[]): Promise<void> {
    const ids = (await this.registry.activeIn(channelId)).sort();
    const snapshots = await loadUserSnapshots(this.db, [...new Set([...ids, ...joined, ...left])]);
    const byId = new Map(snapshots.map((s) => [s.id, s]));
    const pick = (list: string[]) => list.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
    await this.pubsub.publish('channelActivity', channelId, {
      channelId,
      users: pick(ids),
      joined: pick(joined),
      left: pick(left),
    });
  }
}
