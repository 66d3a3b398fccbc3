// Announcement in Redis (only with TEST_REDIS_URL: vitest.config.ts leaves this file out otherwise).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMediaNodes, nodeKey, nodesKey, sweepMediaNodes } from '../../media/src/registry.js';
import { startTestNode } from './support/node.js';
import { eventually } from './support/control.js';

const prefix = `test:${randomBytes(4).toString('hex')}:`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(process.env.TEST_REDIS_URL!);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('media node announcement', () => {
  it('lists a running node with its control URL and load, and not after it stops', async () => {
    const media = await startTestNode({ REDIS_URL: process.env.TEST_REDIS_URL!, REDIS_KEY_PREFIX: prefix, MEDIA_ANNOUNCE_TTL_MS: '900', MEDIA_NODE_ID: 'node-one' });
    try {
      const [listed, ...others] = await listMediaNodes(redis, prefix);
      expect(others).toEqual([]);
      expect(listed).toMatchObject({ id: 'node-one', controlUrl: media.controlUrl, rooms: 0, participants: 0 });

      // the announcement is refreshed (every TTL/3) and carries the load
      await media.node.join({ roomId: 'r', participantId: 'p', userId: 'u' });
      await eventually('the load is announced', async () => (await listMediaNodes(redis, prefix))[0]?.participants === 1, 3000);
      // it outlives one TTL because it is refreshed
      await eventually('refreshed past the first TTL', async () => ((await listMediaNodes(redis, prefix))[0]?.expiresAt ?? 0) > listed!.expiresAt + 900, 3000);
    } finally {
      await media.stop();
    }
    expect(await listMediaNodes(redis, prefix)).toEqual([]);
    expect(await redis.exists(nodeKey(prefix, 'node-one'))).toBe(0);
  });

  it('does not list an entry whose expiry has passed (a node that died without saying so)', async () => {
    const now = Date.now();
    const info = (id: string, expiresAt: number) => JSON.stringify({ id, controlUrl: `ws://10.0.0.1:4010/control`, rooms: 0, participants: 0, startedAt: now - 60_000, expiresAt });
    await redis.zadd(nodesKey(prefix), now - 1000, 'dead', now + 60_000, 'alive');
    // the hash of the dead one may linger (its PX not yet due on a replica, clock skew): the score decides
    await redis.set(nodeKey(prefix, 'dead'), info('dead', now - 1000), 'PX', 60_000);
    await redis.set(nodeKey(prefix, 'alive'), info('alive', now + 60_000), 'PX', 60_000);
    expect((await listMediaNodes(redis, prefix, now)).map((n) => n.id)).toEqual(['alive']);
    // and seen from later, both are gone
    expect(await listMediaNodes(redis, prefix, now + 61_000)).toEqual([]);
    expect(await sweepMediaNodes(redis, prefix, now)).toBe(1);
    expect(await redis.zrange(nodesKey(prefix), 0, -1)).toEqual(['alive']);
  });
});
