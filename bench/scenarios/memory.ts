// Scenario "memory": the resident memory an idle authenticated connection with one subscription
// costs the server: RSS (/proc/<pid>/status) of a fresh process with a warm-up set of connections
// (which take the first-use costs: code compiled, pools and caches filled), then again with N
// more (distinct users), divided by N. The relay yardstick the same way. Both processes run with
// --inspect, and a full garbage collection is forced through the inspector before each sample,
// so that uncollected garbage (which comes and goes) is not counted; the JS heap after that GC
// is reported beside RSS.
import { startApi } from '../lib/api.js';
import type { Bench } from '../lib/bench.js';
import { collectGarbage, takeHeapSnapshot } from '../lib/inspector.js';
import { listeningPorts, rssBytes } from '../lib/procs.js';
import { fmtInt, fmtMs, fmtRatio, sleep } from '../lib/util.js';
import { type Target, connectAudience, targetName, waitLive } from './delivery.js';

interface Sample {
  rss: number;
  heap: number;
  /** RSS before the forced GC: what a plain reading of /proc shows */
  rssNoGc: number;
}

/**
 * RSS once the process has given freed memory back: two forced GCs 1.5 s apart, RSS sampled
 * every 250 ms for 3 s (1 s in quick mode), the lowest kept (pages a GC freed leave RSS a little later).
 */
async function sample(pid: number, inspectPort: number, rounds: number): Promise<Sample> {
  const rssNoGc = rssBytes(pid);
  let heap = await collectGarbage(inspectPort);
  let rss = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    await sleep(250);
    if (i === Math.floor(rounds / 2) - 1) heap = await collectGarbage(inspectPort);
    rss = Math.min(rss, rssBytes(pid));
  }
  return { rss, heap, rssNoGc };
}

interface Measured {
  perConnection: number;
  heapPerConnection: number;
  before: Sample;
  after: Sample;
  live: number;
  failed: number;
  open: number;
  connections: number;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(0);

async function measure(bench: Bench, target: Target, pid: number, inspectPort: number): Promise<Measured> {
  const k = bench.knobs;
  const users = bench.users;
  const measured = users.slice(0, k.memoryConnections);
  const warm = users.slice(k.memoryConnections, k.memoryConnections + k.memoryWarmup);
  const senders = users.slice(users.length - 2);
  const [channel] = await bench.ensureChannels(['quiet']);
  const name = targetName(target);
  try {
    if (warm.length) {
      const w = await connectAudience(bench, target, warm, [channel!]);
      await waitLive(bench, w, senders, k.liveTimeoutMs);
    }
    await sleep(1000);
    const before = await sample(pid, inspectPort, k.quick ? 4 : 12);
    // BENCH_HEAP_SNAPSHOT_DIR: heap snapshots before and after, to see where a connection's bytes go
    const snapshots = process.env.BENCH_HEAP_SNAPSHOT_DIR;
    if (snapshots) await takeHeapSnapshot(inspectPort, `${snapshots}/${name}-before.heapsnapshot`);
    console.error(`bench: memory, ${name}: ${measured.length} idle connections`);
    const audience = await connectAudience(bench, target, measured, [channel!]);
    const live = await waitLive(bench, { ...audience, total: audience.total + warm.length }, senders, k.liveTimeoutMs);
    await sleep(2000);
    const after = await sample(pid, inspectPort, k.quick ? 4 : 12);
    if (snapshots) await takeHeapSnapshot(inspectPort, `${snapshots}/${name}-after.heapsnapshot`);
    const stats = await Promise.all(bench.workers.map((w) => w.stats([])));
    const open = stats.reduce((s, x) => s + x.open, 0);
    bench.report.note(
      `memory, ${name}: ${audience.total} connections in ${fmtMs(audience.connectMs)}${audience.failed ? ` (${audience.failed} failed: ${audience.firstError.slice(0, 160)})` : ''}, ${live.live} subscriptions live after ${fmtMs(live.ms)}, ${open} sockets open at the sample; ` +
        `RSS ${mib(before.rss)} → ${mib(after.rss)} MiB, JS heap after GC ${mib(before.heap)} → ${mib(after.heap)} MiB; ` +
        `without forcing a GC RSS ${mib(before.rssNoGc)} → ${mib(after.rssNoGc)} MiB (${((after.rssNoGc - before.rssNoGc) / audience.total / 1024).toFixed(1)} KiB per connection)`,
    );
    return {
      perConnection: (after.rss - before.rss) / audience.total,
      heapPerConnection: (after.heap - before.heap) / audience.total,
      before,
      after,
      live: live.live - warm.length,
      connections: audience.total,
      failed: audience.failed,
      open,
    };
  } finally {
    await bench.disconnectAll();
  }
}

function inspectorPort(pid: number, except: number[]): number {
  const port = listeningPorts(pid).find((p) => !except.includes(p));
  if (!port) throw new Error(`process ${pid} has no inspector port (started with --inspect?)`);
  return port;
}

export async function memory(bench: Bench): Promise<void> {
  const k = bench.knobs;
  await bench.ensureInstances(1);
  await bench.ensureUsers(k.memoryConnections + k.memoryWarmup + 2);
  await bench.ensureWorkers();

  // fresh processes, so that nothing earlier scenarios did is in their memory
  // --inspect on port 0: each process picks its own; the one of the process measured is found
  // among its listening sockets (a wrapper process, if the start command has one, keeps its own)
  const relay = await bench.startRelay('relay-memory', ['--inspect=127.0.0.1:0']);
  const relayInspect = inspectorPort(relay.pid, []);
  bench.extraChildren.push(relay.child);
  let relayResult: Measured;
  try {
    relayResult = await measure(bench, { kind: 'relay', wsUrls: [relay.wsUrl], sendUrls: [relay.url], pids: [relay.pid] }, relay.pid, relayInspect);
  } finally {
    await relay.child.stop();
  }

  const api = await startApi('api-memory', bench.apiEnv({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`.trim() }));
  let apiResult: Measured;
  try {
    const apiInspect = inspectorPort(api.serverPid, [api.port]);
    apiResult = await measure(bench, { kind: 'api', wsUrls: [api.wsUrl], sendUrls: [api.graphqlUrl], pids: [api.serverPid] }, api.serverPid, apiInspect);
  } finally {
    await api.stop();
  }
  // RSS can grow by less than the JS heap did when the baseline still held pages freed earlier
  // (allocator and V8 keep some): a connection costs at least its heap growth, so that is the floor
  const cost = (m: Measured) => Math.max(m.perConnection, m.heapPerConnection);
  const plain = (m: Measured) => (m.after.rssNoGc - m.before.rssNoGc) / m.connections;
  const kib = (m: Measured) =>
    `${(cost(m) / 1024).toFixed(1)} KiB retained${m.perConnection < m.heapPerConnection ? ' (JS heap growth; RSS grew less)' : ` (JS heap ${(m.heapPerConnection / 1024).toFixed(1)} KiB)`}; plain RSS delta ${(plain(m) / 1024).toFixed(1)} KiB`;
  const ratio = cost(apiResult) / cost(relayResult);
  const plainRatio = plain(apiResult) / plain(relayResult);
  bench.report.add({
    scenario: `Memory per idle authenticated connection with one subscription (${fmtInt(k.memoryConnections)} connections of distinct users after ${k.memoryWarmup} warm-up ones; RSS delta / connections, retained = after a forced full GC, plain = as /proc shows it 2 s after they are live)`,
    yardstick: kib(relayResult),
    api: kib(apiResult) + (apiResult.live < k.memoryConnections ? ` (only ${apiResult.live} live)` : ''),
    ratio: `${fmtRatio(ratio)} retained (plain RSS ${fmtRatio(plainRatio)})`,
    target: '≤ 2.2× (retained)',
    met: ratio <= 2.2 && apiResult.failed === 0 && apiResult.live >= k.memoryConnections,
  });
}
