// The fan-out machinery shared by the scenarios: subscribers spread over instances and worker
// processes, a liveness check, and a measured window of sends at a fixed rate.
import type { Bench, ChannelRef, User } from '../lib/bench.js';
import { MESSAGE_ADDED } from '../lib/operations.js';
import { cpuSeconds } from '../lib/procs.js';
import { Histogram } from '../lib/stats.js';
import { sleep, wallNow } from '../lib/util.js';
import type { Slot } from '../workers/senders.js';
import type { ConnSpec } from '../workers/sockets.js';

/** What subscribers connect to and where sends go: the API's instances or the relay's processes. */
export interface Target {
  kind: 'api' | 'relay';
  /** WebSocket URLs, one per instance */
  wsUrls: string[];
  /** per instance: the /graphql URL (api) or the relay's base URL */
  sendUrls: string[];
  /** the server processes, for CPU accounting */
  pids: number[];
}

export function apiTarget(bench: Bench, n: number): Target {
  const inst = bench.instances.slice(0, n);
  return { kind: 'api', wsUrls: inst.map((i) => i.wsUrl), sendUrls: inst.map((i) => i.graphqlUrl), pids: inst.map((i) => i.serverPid) };
}

export function relayTarget(bench: Bench, n: number): Target {
  const relays = bench.relays.slice(0, n);
  return { kind: 'relay', wsUrls: relays.map((r) => r.wsUrl), sendUrls: relays.map((r) => r.url), pids: relays.map((r) => r.pid) };
}

export const targetName = (t: Target) => (t.kind === 'api' ? 'API' : 'relay');

export interface Audience {
  target: Target;
  channels: ChannelRef[];
  /** subscribers per channel (by channel id) */
  perChannel: Map<string, number>;
  total: number;
  connectMs: number;
  failed: number;
  firstError: string;
}

/** The channel key a target uses: the API's global id; the relay takes the same string as its channel name. */
const key = (c: ChannelRef) => c.id;

/**
 * Opens one connection per user, user i on channel i % channels and instance i % instances,
 * connections dealt over the client workers; each connection holds one subscription.
 */
export async function connectAudience(bench: Bench, target: Target, users: User[], channels: ChannelRef[]): Promise<Audience> {
  const perWorker: ConnSpec[][] = bench.workers.map(() => []);
  const channelOf: string[][] = bench.workers.map(() => []);
  users.forEach((u, i) => {
    const channel = channels[i % channels.length]!;
    channelOf[i % bench.workers.length]!.push(key(channel));
    perWorker[i % bench.workers.length]!.push({
      url: target.wsUrls[i % target.wsUrls.length]!,
      token: u.token,
      subs: [target.kind === 'api' ? { query: MESSAGE_ADDED, variables: { channelId: channel.id } } : { channel: key(channel) }],
    });
  });
  const t0 = wallNow();
  const results = await Promise.all(
    bench.workers.map((w, k) => w.connect({ kind: target.kind, conns: perWorker[k]!, concurrency: 32, timeoutMs: 60_000 })),
  );
  const failed = results.reduce((s, r) => s + r.failed, 0);
  // expected deliveries count the subscribers whose connection opened
  const perChannel = new Map<string, number>();
  results.forEach((r, k) => {
    const failedHere = new Set(r.failedIdx);
    channelOf[k]!.forEach((c, j) => {
      if (!failedHere.has(j)) perChannel.set(c, (perChannel.get(c) ?? 0) + 1);
    });
  });
  return {
    target,
    channels,
    perChannel,
    total: users.length - failed,
    connectMs: wallNow() - t0,
    failed,
    firstError: results.find((r) => r.firstError)?.firstError ?? '',
  };
}

/** Send slots: channel j's messages go to instance j % n, from sender j % senders. */
export function slotsFor(target: Target, channels: ChannelRef[], senders: User[], count = channels.length): Slot[] {
  return Array.from({ length: Math.max(count, 1) }, (_, j) => ({
    url: target.sendUrls[j % target.sendUrls.length]!,
    token: senders[j % senders.length]!.token,
    channel: key(channels[j % channels.length]!),
  }));
}

async function coverage(bench: Bench, phase: string): Promise<{ covered: number; count: number }> {
  const all = await Promise.all(bench.workers.map((w) => w.covered(phase)));
  return { covered: all.reduce((s, r) => s + r.covered, 0), count: all.reduce((s, r) => s + r.count, 0) };
}

/**
 * Subscriptions are acknowledged by nothing in graphql-ws: a subscription is live once it has
 * received a message. Sends one message per channel per round until every subscription got one.
 */
export async function waitLive(bench: Bench, audience: Audience, senders: User[], timeoutMs: number): Promise<{ live: number; ms: number }> {
  const t0 = wallNow();
  const phase = `live${Math.floor(t0)}`;
  const slots = slotsFor(audience.target, audience.channels, senders);
  let live = 0;
  while (wallNow() - t0 < timeoutMs) {
    await bench.sender!.send({ target: audience.target.kind, mode: 'once', phase, slots, concurrency: 8 });
    const roundEnd = wallNow() + 1000;
    while (wallNow() < roundEnd) {
      live = (await coverage(bench, phase)).covered;
      if (live >= audience.total) return { live, ms: wallNow() - t0 };
      await sleep(100);
    }
  }
  return { live, ms: wallNow() - t0 };
}

export interface WindowResult {
  rate: number;
  durationMs: number;
  attempted: number;
  ok: number;
  failed: number;
  skipped: number;
  firstError: string;
  expected: number;
  delivered: number;
  latency: Histogram;
  sendLatency: Histogram;
  /** a one-row INSERT's commit on the same PostgreSQL, every 50 ms through the window: the
   *  durable write every API send waits for and the relay never does (empty when unmeasured) */
  commitLatency: Histogram;
  /** deliveries per second over the window and its drain */
  throughput: number;
  /** server CPU seconds per second of window, summed over the target's processes */
  cpu: number;
  /** the client workers' CPU seconds per second (near 1 per worker: the clients are the limit) */
  clientCpu: number;
  socketErrors: number;
  socketFirstError: string;
  unexpectedCloses: number;
}

/**
 * Sends `rate` messages per second for durationMs (open loop, round-robin over the slots),
 * then waits up to drainMs after the window for the deliveries. Deliveries arriving later are
 * not counted: they are the ones "not delivered by the end of the window".
 */
export async function measureWindow(
  bench: Bench,
  audience: Audience,
  slots: Slot[],
  opts: { phase: string; rate: number; durationMs: number; drainMs: number },
): Promise<WindowResult> {
  const cpu0 = audience.target.pids.map((p) => safeCpu(p));
  const clientPids = bench.workers.map((w) => w.child.pid);
  const clientCpu0 = clientPids.map((p) => safeCpu(p));
  const start = wallNow();
  const commits = probeCommits(bench);
  const sending = bench.sender!.send({
    target: audience.target.kind,
    mode: 'rate',
    phase: opts.phase,
    slots,
    rate: opts.rate,
    durationMs: opts.durationMs,
    maxInFlight: 512,
  });
  let result: Awaited<typeof sending> | undefined;
  void sending.then((r) => (result = r), () => {});
  const deadline = start + opts.durationMs + opts.drainMs;
  await sleep(Math.max(0, opts.durationMs - 200));
  let lastCount = 0;
  while (wallNow() < deadline) {
    lastCount = (await coverage(bench, opts.phase)).count;
    if (result && lastCount >= expectedOf(audience, result.okPerChannel)) break;
    await sleep(100);
  }
  const end = Math.min(wallNow(), deadline);
  const cpu1 = audience.target.pids.map((p) => safeCpu(p));
  const clientCpu1 = clientPids.map((p) => safeCpu(p));
  const stats = await Promise.all(bench.workers.map((w) => w.stats([opts.phase])));
  const sent = await sending;
  const commitLatency = await commits.stop();
  const latency = new Histogram();
  let delivered = 0;
  let lastBucket = 0;
  for (const s of stats) {
    const p = s.phases[opts.phase]!;
    latency.merge(p.hist);
    for (const [bucket, n] of p.buckets) {
      // count what arrived by the deadline only
      if (bucket * 100 <= deadline) {
        delivered += n;
        lastBucket = Math.max(lastBucket, bucket);
      }
    }
  }
  const spanS = Math.max(opts.durationMs, Math.min(end, (lastBucket + 1) * 100) - start) / 1000;
  const cpuUsed = cpu1.reduce((s, c, i) => s + (c - cpu0[i]!), 0);
  return {
    rate: opts.rate,
    durationMs: opts.durationMs,
    attempted: sent.attempted,
    ok: sent.ok,
    failed: sent.failed,
    skipped: sent.skipped,
    firstError: sent.firstError,
    expected: expectedOf(audience, sent.okPerChannel),
    delivered,
    latency,
    sendLatency: Histogram.from(sent.latency),
    commitLatency,
    throughput: delivered / spanS,
    cpu: cpuUsed / ((end - start) / 1000),
    clientCpu: clientCpu1.reduce((s, c, i) => s + (c - clientCpu0[i]!), 0) / ((end - start) / 1000),
    socketErrors: stats.reduce((s, x) => s + x.errors, 0),
    socketFirstError: stats.find((x) => x.firstError)?.firstError ?? '',
    unexpectedCloses: stats.reduce((s, x) => s + x.unexpectedCloses, 0),
  };
}

/** Commits a one-row INSERT on the scratch database every 50 ms until stopped. */
function probeCommits(bench: Bench): { stop(): Promise<Histogram> } {
  const hist = new Histogram();
  const db = bench.db;
  if (!db) return { stop: async () => hist };
  let running = true;
  const loop = (async () => {
    await db.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    while (running) {
      const t0 = performance.now();
      await db.query('INSERT INTO bench_commit_probe DEFAULT VALUES');
      hist.record(performance.now() - t0);
      await sleep(50);
    }
  })().catch(() => {});
  return {
    async stop() {
      running = false;
      await loop;
      return hist;
    },
  };
}

/** Waits until the late deliveries of a phase stop arriving (a backlog must not spill into the next window). */
export async function settle(bench: Bench, phase: string, quietMs = 1000, maxMs = 30_000): Promise<void> {
  const t0 = wallNow();
  let last = -1;
  let since = wallNow();
  while (wallNow() - t0 < maxMs) {
    const n = (await coverage(bench, phase)).count;
    if (n !== last) {
      last = n;
      since = wallNow();
    } else if (wallNow() - since >= quietMs) return;
    await sleep(100);
  }
}

function expectedOf(audience: Audience, okPerChannel: Record<string, number>): number {
  let n = 0;
  for (const [channel, sent] of Object.entries(okPerChannel)) n += sent * (audience.perChannel.get(channel) ?? 0);
  return n;
}

function safeCpu(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}
