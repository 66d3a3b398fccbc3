// The benchmark's settings, from the environment (documented at the top of bench/run.ts).
import { numEnv } from './util.js';

export const SCENARIOS = [
  'coldstart',
  'fanout',
  'saturation',
  'channels',
  'send',
  'roundtrips',
  'memory',
  'subscriptions',
  'history',
  'search',
  'voice',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

const quick = ['1', 'true', 'yes'].includes((process.env.BENCH_QUICK ?? '').toLowerCase());
const q = <T>(full: T, small: T): T => (quick ? small : full);
const num = (name: string, full: number, small: number, min = 0, max = 1e9) => numEnv(name, q(full, small), min, max);

function only(): Set<Scenario> {
  const raw = process.env.BENCH_ONLY?.trim();
  if (!raw) return new Set(SCENARIOS);
  const picked = new Set<Scenario>();
  for (const name of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown scenario ${name} (known: ${SCENARIOS.join(', ')})`);
    picked.add(name as Scenario);
  }
  return picked;
}

export const knobs = {
  quick,
  only: only(),
  timeoutS: num('BENCH_TIMEOUT_S', 1500, 300, 30, 7200),
  adminUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/9',
  workers: num('BENCH_WORKERS', 2, 2, 1, 16),
  verbose: ['1', 'true', 'yes'].includes((process.env.BENCH_VERBOSE ?? '').toLowerCase()),
  keepDatabase: ['1', 'true', 'yes'].includes((process.env.BENCH_KEEP_DATABASE ?? '').toLowerCase()),
  drainMs: num('BENCH_DRAIN_MS', 3000, 2000, 0, 60_000),
  lagMs: num('BENCH_LAG_MS', 1000, 1000, 10, 60_000),
  liveTimeoutMs: num('BENCH_LIVE_TIMEOUT_MS', 60_000, 30_000, 1000, 600_000),

  fanoutSubscribers: num('BENCH_FANOUT_SUBSCRIBERS', 1000, 100, 1, 20_000),
  fanoutRate: num('BENCH_FANOUT_RATE', 20, 20, 0.1, 10_000),
  fanoutSeconds: num('BENCH_FANOUT_SECONDS', 15, 3, 1, 600),
  fanoutSenders: num('BENCH_FANOUT_SENDERS', 10, 4, 1, 1000),

  satStart: num('BENCH_SAT_START', 20, 20, 1, 100_000),
  satStepSeconds: num('BENCH_SAT_STEP_S', 5, 2, 1, 120),
  satMax: num('BENCH_SAT_MAX', 1280, 80, 1, 1_000_000),

  channels: num('BENCH_CHANNELS', 200, 20, 1, 2000),
  channelSubscribers: num('BENCH_CHANNEL_SUBSCRIBERS', 10, 5, 1, 1000),
  channelRate: num('BENCH_CHANNEL_RATE', 0.5, 0.5, 0.01, 100),
  channelSeconds: num('BENCH_CHANNEL_SECONDS', 10, 3, 1, 600),
  channelSenders: num('BENCH_CHANNEL_SENDERS', 20, 5, 1, 1000),

  sendConcurrency: num('BENCH_SEND_CONCURRENCY', 16, 16, 1, 256),
  sendSeconds: num('BENCH_SEND_SECONDS', 10, 3, 1, 600),

  rtRepeat: num('BENCH_RT_REPEAT', 5, 3, 1, 100),

  memoryConnections: num('BENCH_MEMORY_CONNECTIONS', 2000, 200, 10, 50_000),
  memoryWarmup: num('BENCH_MEMORY_WARMUP', 100, 20, 0, 10_000),

  subsOnSocket: (process.env.BENCH_SUBS_ON_SOCKET || q('1000,10000', '1000'))
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0),

  coldRepeat: num('BENCH_COLD_REPEAT', 3, 1, 1, 20),

  historyMessages: num('BENCH_HISTORY_MESSAGES', 1_000_000, 20_000, 100, 20_000_000),
  historyOthers: num('BENCH_HISTORY_OTHERS', 50_000, 2_000, 0, 10_000_000),
  historySmall: num('BENCH_HISTORY_SMALL', 100, 100, 1, 1_000_000),
  historyRepeat: num('BENCH_HISTORY_REPEAT', 30, 5, 1, 1000),

  searchMessages: num('BENCH_SEARCH_MESSAGES', 1_000_000, 50_000, 1000, 20_000_000),
  searchRepeat: num('BENCH_SEARCH_REPEAT', 20, 5, 1, 1000),

  voiceSizes: (process.env.BENCH_VOICE_SIZES || '2,10,50')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n >= 2),
  voiceStreams: num('BENCH_VOICE_STREAMS', 100, 40, 1, 100_000),
  voiceSpeakers: num('BENCH_VOICE_SPEAKERS', 4, 4, 1, 1000),
  voiceSeconds: num('BENCH_VOICE_SECONDS', 5, 3, 1, 600),
  voicePayload: num('BENCH_VOICE_PAYLOAD', 100, 100, 20, 1200),
};

export type Knobs = typeof knobs;
