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
    expect((await r.put(second, Date.now() + 10_000))?.sessionId).toBe(first.sessionId);
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
