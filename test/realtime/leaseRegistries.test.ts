// The connection (presence) and activity registries: a heartbeat keeps every entry it names
// alive past its first expiry, however many there are (the Redis one renews them in chunks),
// and what is no longer renewed lapses and is swept once. Memory always; Redis too where
// TEST_REDIS_URL names a server.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryActivityRegistry, MemoryConnectionRegistry } from '../../src/realtime/memory.js';
import { RedisActivityRegistry, RedisConnectionRegistry } from '../../src/realtime/redis.js';
import type { ActivityRegistry, ConnectionRegistry } from '../../src/realtime/registries.js';
import { testRedisKeyPrefix } from '../support/redis.js';

// every test of this file has a key space of its own: the sweeps look through everything in it
let space = 0;
const redisClients: Redis[] = [];
const newRedis = () => {
  const client = new Redis(process.env.TEST_REDIS_URL!, { keyPrefix: `${testRedisKeyPrefix}lease${space++}:` });
  redisClients.push(client);
  return client;
};
afterAll(() => redisClients.forEach((c) => c.disconnect()));

const withRedis = Boolean(process.env.TEST_REDIS_URL);
const connectionRegistries: [string, () => ConnectionRegistry][] = [
  ['memory', () => new MemoryConnectionRegistry()],
  ...(withRedis ? ([['redis', () => new RedisConnectionRegistry(newRedis())]] as [string, () => ConnectionRegistry][]) : []),
];
const activityRegistries: [string, () => ActivityRegistry][] = [
  ['memory', () => new MemoryActivityRegistry()],
  ...(withRedis ? ([['redis', () => new RedisActivityRegistry(newRedis())]] as [string, () => ActivityRegistry][]) : []),
];

/** more than one chunk of the Redis heartbeat (200), and not a multiple of it */
const MANY = 450;

/** a first expiry that the 450 entries' set-up and renewal finish well within, even on a loaded machine */
const FIRST_EXPIRY_MS = 1_500;

/** resolves once the clock has passed `at` */
const clockPast = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now() + 1)));

async function sweepAll<T>(sweep: () => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  for (;;) {
    const batch = await sweep();
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

describe.each(connectionRegistries)('%s connection registry', (_name, make) => {
  it(`keeps ${MANY} connections online through heartbeats, and sweeps the ones no longer renewed`, async () => {
    const r = make();
    const now = Date.now();
    const connections = Array.from({ length: MANY }, (_, i) => ({ userId: `user${i}`, connectionId: `conn${i}` }));
    for (const c of connections) expect(await r.connect(c.userId, c.connectionId, now + 1_000)).toBe(true);

    const renewed = connections.slice(0, MANY - 50);
    await r.heartbeat(renewed, now + 60_000);
    // past the first expiry: only the 50 left out lapsed
    const lapsed = await sweepAll(() => r.sweep(now + 5_000));
    expect(lapsed.sort()).toEqual(connections.slice(MANY - 50).map((c) => c.userId).sort());
    const online = await r.onlineAmong(connections.map((c) => c.userId));
    expect(online).toEqual(new Set(renewed.map((c) => c.userId)));

    // past the renewed expiry: the rest, each once
    const rest = await sweepAll(() => r.sweep(now + 120_000));
    expect(rest.sort()).toEqual(renewed.map((c) => c.userId).sort());
  });

  it('renews each connection itself: a renewed one still counts once its first expiry has passed', async () => {
    const r = make();
    const now = Date.now();
    const users = Array.from({ length: MANY }, (_, i) => `user${i}`);
    for (const u of users) await r.connect(u, `${u}-tab1`, now + FIRST_EXPIRY_MS);
    await r.heartbeat(users.map((u) => ({ userId: u, connectionId: `${u}-tab1` })), now + 60_000);
    await clockPast(now + FIRST_EXPIRY_MS);
    // a second tab finds the first one alive: nobody comes online again
    for (const u of users) expect(await r.connect(u, `${u}-tab2`, now + 60_000)).toBe(false);
  });

  it('renews a user with two connections without counting them twice', async () => {
    const r = make();
    const now = Date.now();
    expect(await r.connect('u', 'tab1', now + 1_000)).toBe(true);
    expect(await r.connect('u', 'tab2', now + 1_000)).toBe(false);
    await r.heartbeat(
      [
        { userId: 'u', connectionId: 'tab1' },
        { userId: 'u', connectionId: 'tab2' },
      ],
      now + 60_000,
    );
    expect(await sweepAll(() => r.sweep(now + 5_000))).toEqual([]);
    expect(await r.disconnect('u', 'tab1')).toBe(false);
    expect(await r.disconnect('u', 'tab2')).toBe(true);
  });
});

describe.each(activityRegistries)('%s activity registry', (_name, make) => {
  it(`keeps ${MANY} holds over several channels through heartbeats, and sweeps the ones no longer renewed`, async () => {
    const r = make();
    const now = Date.now();
    const holds = Array.from({ length: MANY }, (_, i) => ({ channelId: `ch${i % 7}`, userId: `user${i}`, holdId: `hold${i}` }));
    for (const h of holds) expect(await r.enter(h.channelId, h.userId, h.holdId, now + 1_000)).toBe(true);

    const renewed = holds.slice(0, MANY - 30);
    await r.heartbeat(renewed, now + 60_000);
    const key = (h: { channelId: string; userId: string }) => `${h.channelId} ${h.userId}`;
    const lapsed = await sweepAll(() => r.sweep(now + 5_000));
    expect(lapsed.map(key).sort()).toEqual(holds.slice(MANY - 30).map(key).sort());
    const inCh0 = renewed.filter((h) => h.channelId === 'ch0').map((h) => h.userId);
    expect((await r.activeIn('ch0')).sort()).toEqual(inCh0.sort());

    const rest = await sweepAll(() => r.sweep(now + 120_000));
    expect(rest.map(key).sort()).toEqual(renewed.map(key).sort());
    expect(await r.activeIn('ch0')).toEqual([]);
  });

  it('renews each hold itself: a renewed one still counts once its first expiry has passed', async () => {
    const r = make();
    const now = Date.now();
    const holds = Array.from({ length: MANY }, (_, i) => ({ channelId: `ch${i % 7}`, userId: `user${i}`, holdId: `hold${i}` }));
    for (const h of holds) await r.enter(h.channelId, h.userId, h.holdId, now + FIRST_EXPIRY_MS);
    await r.heartbeat(holds, now + 60_000);
    await clockPast(now + FIRST_EXPIRY_MS);
    for (const h of holds) expect(await r.enter(h.channelId, h.userId, `${h.holdId}-again`, now + 60_000)).toBe(false);
  });
});
