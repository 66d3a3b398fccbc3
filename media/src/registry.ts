// Announcement of media nodes in Redis, so that API instances can pick one for a new room and
// notice one that died. Two keys per deployment prefix:
//   <prefix>media:nodes        sorted set, member = node id, score = expiry (ms since the epoch)
//   <prefix>media:node:<id>    JSON { id, controlUrl, rooms, participants, startedAt, expiresAt }, same expiry (PX)
// A node refreshes both every TTL/3 and removes both when it stops gracefully; an entry past
// its expiry means the node is gone (crashed, partitioned), whatever the sorted set still holds.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface MediaNodeInfo {
  id: string;
  controlUrl: string;
  rooms: number;
  participants: number;
  startedAt: number;
  expiresAt: number;
}

export const nodesKey = (prefix: string) => `${prefix}media:nodes`;
export const nodeKey = (prefix: string, id: string) => `${prefix}media:node:${id}`;

/** The live media nodes, emptiest first (the API's natural choice for a new room). */
export async function listMediaNodes(redis: Redis, prefix: string, now = Date.now()): Promise<MediaNodeInfo[]> {
  const ids = await redis.zrangebyscore(nodesKey(prefix), `(${now}`, '+inf');
  if (!ids.length) return [];
  const values = await redis.mget(...ids.map((id) => nodeKey(prefix, id)));
  const nodes: MediaNodeInfo[] = [];
  for (const raw of values) {
    if (!raw) continue;
    try {
      const info = JSON.parse(raw) as MediaNodeInfo;
      if (info.expiresAt > now) nodes.push(info);
    } catch {
      /* written by something else: not a node */
    }
  }
  return nodes.sort((a, b) => a.participants - b.participants || a.id.localeCompare(b.id));
}

/** Removes sorted-set members whose expiry has passed (the API's sweeper may call it; announcing nodes do too). */
export async function sweepMediaNodes(redis: Redis, prefix: string, now = Date.now()): Promise<number> {
  return redis.zremrangebyscore(nodesKey(prefix), '-inf', now);
}

export class MediaAnnouncer {
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
    private readonly info: () => Omit<MediaNodeInfo, 'expiresAt'>,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    const tick = () => {
      this.timer = setTimeout(() => {
        this.refresh().then(tick, (err: unknown) => {
          // a Redis hiccup: try again next round; the entry survives until its TTL
          this.log.warn({ err }, 'media registry: refresh failed');
          tick();
        });
      }, Math.max(100, Math.floor(this.ttlMs / 3)));
      this.timer.unref();
    };
    tick();
  }

  async refresh(now = Date.now()): Promise<void> {
    if (this.stopped) return;
    const info: MediaNodeInfo = { ...this.info(), expiresAt: now + this.ttlMs };
    await this.redis
      .multi()
      .set(nodeKey(this.prefix, info.id), JSON.stringify(info), 'PX', this.ttlMs)
      .zadd(nodesKey(this.prefix), info.expiresAt, info.id)
      .zremrangebyscore(nodesKey(this.prefix), '-inf', now)
      .exec();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const { id } = this.info();
    await this.redis.multi().del(nodeKey(this.prefix, id)).zrem(nodesKey(this.prefix), id).exec();
  }
}
