// Scenario "send": sendMessage with N concurrent senders (distinct users, closed loop, from two
// worker processes) on one instance, against the INSERT + PUBLISH endpoint on the same database.
import path from 'node:path';
import type { Bench } from '../lib/bench.js';
import { ROOT, freePort, spawnChild, waitFor200 } from '../lib/procs.js';
import { Histogram } from '../lib/stats.js';
import { fmtInt, fmtMs, fmtRatio } from '../lib/util.js';
import type { SendResult, Slot } from '../workers/senders.js';

export async function startInsertPublish(bench: Bench, databaseUrl: string, name = 'insert-publish') {
  const port = await freePort();
  const child = spawnChild(name, process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/yardsticks/insertPublish.ts')], {
    env: { ...process.env, PORT: String(port), DATABASE_URL: databaseUrl, REDIS_URL: bench.knobs.redisUrl },
  });
  bench.extraChildren.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(`${url}/health`, 30_000, child);
  return { child, url };
}

interface Throughput {
  perSecond: number;
  ok: number;
  failed: number;
  firstError: string;
  latency: Histogram;
}

async function closedLoop(bench: Bench, target: 'api' | 'ip', slots: Slot[], seconds: number, phase: string): Promise<Throughput> {
  // two worker processes, each with half the senders
  const workers = [bench.sender!, bench.workers[0]!];
  const halves = workers.map((_, w) => slots.filter((__, i) => i % workers.length === w));
  const run = (ms: number, ph: string) =>
    Promise.all(
      workers.map((w, i) =>
        halves[i]!.length
          ? w.send({ target, mode: 'closed', phase: ph, slots: halves[i]!, concurrency: halves[i]!.length, durationMs: ms })
          : Promise.resolve(undefined),
      ),
    );
  await run(1000, `${phase}-warm`);
  const results = (await run(seconds * 1000, phase)).filter((r): r is SendResult => Boolean(r));
  const latency = new Histogram();
  for (const r of results) latency.merge(r.latency);
  const start = Math.min(...results.map((r) => r.startedAt));
  const end = Math.max(...results.map((r) => r.endedAt));
  const ok = results.reduce((s, r) => s + r.ok, 0);
  return {
    perSecond: ok / ((end - start) / 1000),
    ok,
    failed: results.reduce((s, r) => s + r.failed, 0),
    firstError: results.find((r) => r.firstError)?.firstError ?? '',
    latency,
  };
}

export async function send(bench: Bench): Promise<void> {
  const k = bench.knobs;
  const [a] = await bench.ensureInstances(1);
  await bench.ensureWorkers();
  const users = await bench.ensureUsers(k.sendConcurrency);
  // the last users of the pool: nobody subscribes to this channel
  const senders = users.slice(users.length - k.sendConcurrency);
  const [channel] = await bench.ensureChannels(['sendbench']);
  await bench.dbIds(senders);
  const ip = await startInsertPublish(bench, bench.scratch!.url);

  console.error(`bench: send: API, ${k.sendConcurrency} senders for ${k.sendSeconds} s`);
  const api = await closedLoop(
    bench,
    'api',
    senders.map((u) => ({ url: a!.graphqlUrl, token: u.token, channel: channel!.id })),
    k.sendSeconds,
    'send-api',
  );
  console.error(`bench: send: INSERT + PUBLISH endpoint, ${k.sendConcurrency} senders for ${k.sendSeconds} s`);
  const yard = await closedLoop(
    bench,
    'ip',
    senders.map((u) => ({ url: ip.url, channel: channel!.dbId, authorId: u.dbId! })),
    k.sendSeconds,
    'send-ip',
  );
  await ip.child.stop();

  const show = (t: Throughput) => `${fmtInt(t.perSecond)} msg/s (p50 ${fmtMs(t.latency.percentile(50))}, p99 ${fmtMs(t.latency.percentile(99))}${t.failed ? `, ${t.failed} failed` : ''})`;
  const ratio = api.perSecond / yard.perSecond;
  bench.report.add({
    scenario: `sendMessage, ${k.sendConcurrency} concurrent senders (distinct users) for ${k.sendSeconds} s, one instance`,
    yardstick: show(yard),
    api: show(api),
    ratio: fmtRatio(ratio),
    target: '≥ 0.5×',
    met: ratio >= 0.5 && api.failed === 0,
  });
  if (api.firstError) bench.report.note(`send, API: first error: ${api.firstError.slice(0, 200)}`);
  if (yard.firstError) bench.report.note(`send, INSERT + PUBLISH: first error: ${yard.firstError.slice(0, 200)}`);
}
