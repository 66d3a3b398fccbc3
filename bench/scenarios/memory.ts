// Scenario "memory": the resident memory an idle authenticated connection with one subscription
// costs the server: RSS (/proc/<pid>/status) of a fresh process with a warm-up set of connections,
// then again with N more (distinct users), divided by N. The relay yardstick the same way.
import { startApi } from '../lib/api.js';
import type { Bench } from '../lib/bench.js';
import { rssBytes } from '../lib/procs.js';
import { fmtInt, fmtMs, fmtRatio, median, sleep } from '../lib/util.js';
import { type Target, connectAudience, targetName, waitLive } from './delivery.js';

async function sampleRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssBytes(pid));
    await sleep(300);
  }
  return median(samples);
}

interface Measured {
  perConnection: number;
  before: number;
  after: number;
  live: number;
  failed: number;
}

async function measure(bench: Bench, target: Target, pid: number): Promise<Measured> {
  const k = bench.knobs;
  const users = bench.users;
  const measured = users.slice(0, k.memoryConnections);
  const warm = users.slice(k.memoryConnections, k.memoryConnections + k.memoryWarmup);
  const senders = users.slice(users.length - 2);
  const [channel] = await bench.ensureChannels(['quiet']);
  const name = targetName(target);
  try {
    // warm-up connections take the first-use costs (code paths compiled, pools, buffers)
    if (warm.length) {
      const w = await connectAudience(bench, target, warm, [channel!]);
      await waitLive(bench, w, senders, k.liveTimeoutMs);
    }
    await sleep(1500);
    const before = await sampleRss(pid);
    console.error(`bench: memory, ${name}: ${measured.length} idle connections`);
    const audience = await connectAudience(bench, target, measured, [channel!]);
    const live = await waitLive(bench, { ...audience, total: audience.total + warm.length }, senders, k.liveTimeoutMs);
    bench.report.note(`memory, ${name}: ${audience.total} connections in ${fmtMs(audience.connectMs)}, ${live.live} subscriptions live after ${fmtMs(live.ms)}`);
    await sleep(2000);
    const after = await sampleRss(pid);
    return { perConnection: (after - before) / audience.total, before, after, live: live.live - warm.length, failed: audience.failed };
  } finally {
    await bench.disconnectAll();
  }
}

export async function memory(bench: Bench): Promise<void> {
  const k = bench.knobs;
  await bench.ensureInstances(1);
  await bench.ensureUsers(k.memoryConnections + k.memoryWarmup + 2);
  await bench.ensureWorkers();

  // fresh processes, so nothing earlier scenarios did is in their memory
  const relay = await bench.startRelay('relay-memory');
  bench.extraChildren.push(relay.child);
  const relayResult = await measure(bench, { kind: 'relay', wsUrls: [relay.wsUrl], sendUrls: [relay.url], pids: [relay.pid] }, relay.pid);
  await relay.child.stop();

  const api = await startApi('api-memory', bench.apiEnv());
  let apiResult: Measured;
  try {
    apiResult = await measure(bench, { kind: 'api', wsUrls: [api.wsUrl], sendUrls: [api.graphqlUrl], pids: [api.serverPid] }, api.serverPid);
  } finally {
    await api.stop();
  }
  const kib = (m: Measured) =>
    `${(m.perConnection / 1024).toFixed(1)} KiB (RSS ${(m.before / 2 ** 20).toFixed(0)} → ${(m.after / 2 ** 20).toFixed(0)} MiB)`;
  const ratio = apiResult.perConnection / relayResult.perConnection;
  bench.report.add({
    scenario: `Memory per idle authenticated connection with one subscription (${fmtInt(k.memoryConnections)} connections, distinct users, RSS delta / connections)`,
    yardstick: kib(relayResult),
    api: kib(apiResult) + (apiResult.live < k.memoryConnections ? ` (only ${apiResult.live} live)` : ''),
    ratio: fmtRatio(ratio),
    target: '≤ 2.2×',
    met: ratio <= 2.2 && apiResult.failed === 0,
  });
}
