// The voice registries themselves: one state per user, sessions guard updates and removals,
// expiry, heartbeats, and a sweep that reports each lapsed state once. Memory always; Redis too
// where TEST_REDIS_URL names a server.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryVoiceRegistry } from '../../src/realtime/memory.js';
import { RedisVoiceRegistry } from '../../src/realtime/redis.js';
import type { VoiceRegistry, VoiceStateEntry } from '../../src/realtime/registries.js';
import { testRedisKeyPrefix } from '../support/redis.js';

const redis = process.env.TEST_REDIS_URL ? new Redis(process.env.TEST_REDIS_URL, { keyPrefix: `${testRedisKeyPrefix}reg:` }) : undefined;
afterAll(() => redis?.disconnect());

let n = 0;
const entry = (userId: string, channelId: string, extra: Partial<VoiceStateEntry> = {}): VoiceStateEntry => ({
  userId,
  guildId: 'g',
  channelId,
  sessionId: `s${n++}`,
  selfMute: false,
  selfDeaf: false,
  serverMute: false,
  serverDeaf: false,
  speaking: false,
  joinedAt: new Date(Date.now() + n).toISOString(),
  user: { id: userId, username: userId, displayName: userId, createdAt: new Date(0).toISOString() },
  channel: { id: channelId, guildId: 'g', name: channelId, type: 'VOICE', topic: null, position: 0, createdAt: new Date(0).toISOString() },
  restricted: false,
  ...extra,
});

const registries: [string, () => VoiceRegistry][] = [
  ['memory', () => new MemoryVoiceRegistry()],
  ...(redis ? ([['redis', () => new RedisVoiceRegistry(redis)]] as [string, () => VoiceRegistry][]) : []),
];

describe.each(registries)('%s voice registry', (_name, make) => {
  const uid = () => `u${Math.random().toString(36).slice(2, 10)}`;

  it('holds one state per user, replacing the previous one', async () => {
    const r = make();
    const user = uid();
    const [c1, c2] = [uid(), uid()];
    const first = entry(user, c1);
    expect(await r.put(first, Date.now() + 10_000)).toBeNull();
    const second = entry(user, c2);
    expect(((await r.put(second, Date.now() + 10_000)) as VoiceStateEntry).sessionId).toBe(first.sessionId);
    expect(await r.inChannel(c1)).toEqual([]);
    expect((await r.inChannel(c2)).map((s) => s.userId)).toEqual([user]);
    expect((await r.get(user))?.sessionId).toBe(second.sessionId);
  });

  it('changes and removes only the session named', async () => {
    const r = make();
    const user = uid();
    const state = entry(user, uid());
    await r.put(state, Date.now() + 10_000);
    expect(await r.update(user, 'other', { selfMute: true })).toBeNull();
    expect((await r.update(user, state.sessionId, { selfMute: true }))?.selfMute).toBe(true);
    expect(await r.remove(user, 'other')).toBeNull();
    expect((await r.remove(user, state.sessionId))?.selfMute).toBe(true);
    expect(await r.get(user)).toBeNull();
    expect(await r.remove(user)).toBeNull();
  });

  it('puts and moves within a limit, counting live states of others, in one step however many race', async () => {
    const r = make();
    const channel = uid();
    const users = Array.from({ length: 8 }, uid);
    // eight concurrent joins of a channel for two: exactly two get in
    const results = await Promise.all(users.map((u) => r.put(entry(u, channel), Date.now() + 10_000, 2)));
    expect(results.filter((x) => x === 'full')).toHaveLength(6);
    const inside = (await r.inChannel(channel)).map((s) => s.userId);
    expect(inside).toHaveLength(2);
    const outside = users.filter((u) => !inside.includes(u));
    expect(await r.get(outside[0]!)).toBeNull();
    // someone already inside is not counted against themselves (a join again)
    expect(await r.put(entry(inside[0]!, channel), Date.now() + 10_000, 2)).not.toBe('full');
    // 0 = no limit
    expect(await r.put(entry(outside[0]!, channel), Date.now() + 10_000, 0)).toBeNull();
    expect(await r.inChannel(channel)).toHaveLength(3);

    // moves: into a full channel refused and nothing changes; a lapsed state does not count
    const elsewhere = uid();
    const mover = entry(outside[1]!, elsewhere);
    await r.put(mover, Date.now() + 10_000);
    expect(await r.move(mover.userId, mover.sessionId, { channelId: channel, sessionId: 'moved' }, 3)).toBe('full');
    expect((await r.get(mover.userId))?.channelId).toBe(elsewhere);
    expect(await r.move(mover.userId, 'other', { channelId: channel }, 0)).toBeNull();
    const small = uid();
    await r.put(entry(outside[2]!, small), Date.now() + 100);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const moved = await r.move(mover.userId, mover.sessionId, { channelId: small, sessionId: 'moved' }, 1);
    expect(moved).toMatchObject({ channelId: small, sessionId: 'moved' });
    expect((await r.inChannel(small)).map((s) => s.userId)).toEqual([mover.userId]);
    expect(await r.inChannel(elsewhere)).toEqual([]);
  });

  it('lets a state lapse unless its session is heartbeaten, and sweeps each once', async () => {
    const r = make();
    const [kept, lapsed] = [uid(), uid()];
    const channel = uid();
    const k = entry(kept, channel);
    const l = entry(lapsed, channel);
    const now = Date.now();
    await r.put(k, now + 200);
    await r.put(l, now + 200);
    await r.heartbeat([{ userId: kept, sessionId: k.sessionId }, { userId: lapsed, sessionId: 'stale' }], now + 60_000);
    const gone = await r.sweep(now + 1000);
    expect(gone.map((s) => s.userId)).toContain(lapsed);
    expect(gone.map((s) => s.userId)).not.toContain(kept);
    expect((await r.sweep(now + 1000)).map((s) => s.userId)).not.toContain(lapsed);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect((await r.inChannel(channel)).map((s) => s.userId)).toEqual([kept]);
    expect(await r.get(lapsed)).toBeNull();
  });
});
