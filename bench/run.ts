// npm run bench: the figures of issue #8, each next to its yardstick, measured in one run on
// PostgreSQL + Redis with the servers and the load in separate processes; prints a Markdown
// table (stdout; progress goes to stderr). See bench/README.md for what each row means.
//
//   npm run bench                          everything (about 10 minutes on a 2-core machine)
//   BENCH_QUICK=1 npm run bench            small sizes: a smoke run of a minute or two
//   BENCH_ONLY=fanout,send npm run bench   only these scenarios
//
// Scenarios (BENCH_ONLY takes a comma-separated list of these names):
//   coldstart      embedded default, `npm start`'s script to /health/ready, fresh and warm data dir
//   fanout         1,000 subscribers of one channel on 2 instances, 20 msg/s for 15 s, vs raw ws + Redis relay
//   saturation     the send rate doubled until delivery lags: deliveries/s sustained, vs the relay
//   channels       2,000 connections over 200 channels, every channel sending, on 1 and on 2 instances
//   send           sendMessage, 16 concurrent senders for 10 s, vs an INSERT + PUBLISH endpoint
//   roundtrips     database round trips counted by a proxy at the wire: sendMessage, history page, viewer
//   memory         RSS per idle authenticated connection with one subscription (2,000), vs the relay
//   subscriptions  1,000 and 10,000 subscriptions on one socket: time until all are live
//   history        reads on a channel of 1,000,000 messages vs one of 100
//   search         searchMessages over a channel of 1,000,000 messages: p50/p95 of a query mix
//   voice          the media node (media/) forwarding Opus-sized RTP between werift peers in worker
//                  processes, rooms of 2, 10 and 50: forwarded streams per core, loss, p99 (no PostgreSQL)
//
// Knobs (environment; defaults for the full run, BENCH_QUICK's in brackets):
//   BENCH_DATABASE_URL   admin URL of the PostgreSQL server; a scratch database is created on it
//                        per run and dropped after (postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_REDIS_URL      Redis for the instances and the relay; the db index keeps the instances'
//                        keys apart from the tests' (redis://127.0.0.1:6379/9). Pub/sub channel
//                        names are global in Redis: the app's carry ids unique to the scratch
//                        database, the relay's a per-run prefix.
//   BENCH_TIMEOUT_S      watchdog: the whole run stops (table so far printed, children killed)
//                        after this long (1500 [300])
//   BENCH_WORKERS        client worker processes holding the sockets (2), plus one sender process
//   BENCH_CPU_PROF_DIR   each API instance, relay and the media node writes a V8 CPU profile (.cpuprofile) there when it stops
//   BENCH_HEAP_SNAPSHOT_DIR  scenario "memory" writes heap snapshots of each server before and after its connections
//   BENCH_DRAIN_MS       how long after a window deliveries still count (3000 [2000])
//   BENCH_LAG_MS         saturation: a step lags when its p99 exceeds this (1000)
//   BENCH_LIVE_TIMEOUT_MS  how long to wait for every subscription to be live (60000 [30000])
//   BENCH_FANOUT_SUBSCRIBERS (1000 [100]), BENCH_FANOUT_RATE msg/s (20), BENCH_FANOUT_SECONDS (15 [3]),
//   BENCH_FANOUT_SENDERS distinct sending users (10 [4])
//   BENCH_SAT_START msg/s (20), BENCH_SAT_STEP_S (5 [2]), BENCH_SAT_MAX msg/s (1280 [80])
//   BENCH_CHANNELS (200 [20]), BENCH_CHANNEL_SUBSCRIBERS per channel (10 [5]),
//   BENCH_CHANNEL_RATE msg/s per channel (0.5), BENCH_CHANNEL_SECONDS (10 [3]), BENCH_CHANNEL_SENDERS (20 [5])
//   BENCH_SEND_CONCURRENCY (16), BENCH_SEND_SECONDS (10 [3])
//   BENCH_RT_REPEAT      counted repetitions per operation, median reported (5 [3])
//   BENCH_MEMORY_CONNECTIONS (2000 [200]), BENCH_MEMORY_WARMUP connections before the baseline (100 [20])
//   BENCH_SUBS_ON_SOCKET comma-separated sizes (1000,10000 [1000])
//   BENCH_COLD_REPEAT    fresh + warm start pairs, median reported (3 [1])
//   BENCH_HISTORY_MESSAGES (1000000 [20000]), BENCH_HISTORY_SMALL (100), BENCH_HISTORY_REPEAT (30 [5]),
//   BENCH_HISTORY_OTHERS newer messages in a third channel, so the big one is not the newest (50000 [2000])
//   BENCH_SEARCH_MESSAGES (1000000 [50000]), BENCH_SEARCH_REPEAT timed runs of each query (20 [5])
//   BENCH_VOICE_SIZES room sizes (2,10,50), BENCH_VOICE_STREAMS forwarded streams per size, rooms added
//                        to reach it (100 [40]), BENCH_VOICE_SPEAKERS speaking per room, at most (4),
//                        BENCH_VOICE_SECONDS measured window (5 [3]), BENCH_VOICE_PAYLOAD bytes per packet (100)
//   BENCH_VERBOSE=1      also list the SQL statements each counted operation sent
//   BENCH_KEEP_DATABASE=1  keep the scratch database (its URL is printed) to look into it after
//   BENCH_API_FLAGS, BENCH_MEDIA_FLAGS, BENCH_WORKER_FLAGS  more Node.js flags for the API instances,
//                        the media node and the worker processes (for example --perf-basic-prof)
//
// Every server is a child process started from package.json's "start" script (read at run
// time), reached only through its public API: POST /graphql, graphql-ws on ws://…/graphql and
// GET /health/ready. Users are registered through the API (ARGON2_MEMORY_KIB=1024 on the bench
// instances) and join the bench guild through an invite; MESSAGE_RATE_LIMIT is raised.
import os from 'node:os';
import { runPrestart, startCommand } from './lib/api.js';
import { Bench } from './lib/bench.js';
import { closeHttp } from './lib/http.js';
import { type Scenario, knobs } from './lib/knobs.js';
import { errorText } from './lib/util.js';
import { channels } from './scenarios/channels.js';
import { coldstart } from './scenarios/coldstart.js';
import { fanout } from './scenarios/fanout.js';
import { history } from './scenarios/history.js';
import { search } from './scenarios/search.js';
import { memory } from './scenarios/memory.js';
import { roundtrips } from './scenarios/roundtrips.js';
import { send } from './scenarios/send.js';
import { subscriptions } from './scenarios/subscriptions.js';
import { voice } from './scenarios/voice.js';

const started = Date.now();
const load0 = os.loadavg();
const bench = new Bench(knobs);
const scale = knobs.quick ? 0.5 : 1;
let current = 'start-up';
let startScript = '';
try {
  startScript = startCommand().script;
} catch (err) {
  startScript = `(no start script: ${errorText(err)})`;
}
let printed = false;

function printReport(reason?: string) {
  if (printed) return;
  printed = true;
  const load1 = os.loadavg();
  const settings = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const out = [
    '',
    `### Chat backend benchmark (issue #8), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`${settings ? `${settings} ` : ''}npm run bench\`: ${knobs.quick ? 'quick mode, ' : ''}${((Date.now() - started) / 1000).toFixed(0)} s; ` +
      `Node ${process.version}, ${os.cpus().length} cores, load average ${load0[0]!.toFixed(1)} at start, ${load1[0]!.toFixed(1)} at end; ` +
      `servers: \`${startScript}\` (package.json's start script when the run began) on PostgreSQL (${new URL(knobs.adminUrl).host}, scratch database) + Redis (${knobs.redisUrl}), ` +
      `load from ${knobs.workers} client processes + 1 sender process.`,
    '',
    bench.report.markdown(),
    '',
    ...(reason ? [`**Incomplete:** ${reason}`, ''] : []),
    ...(bench.report.notes.length ? ['Notes:', '', ...bench.report.notes.map((n) => `- ${n}`), ''] : []),
  ];
  console.log(out.join('\n'));
}

async function finish(code: number, reason?: string): Promise<never> {
  printReport(reason);
  await bench.cleanup();
  closeHttp();
  process.exit(code);
}

const watchdog = setTimeout(() => {
  console.error(`bench: watchdog: still running after ${knobs.timeoutS} s (during ${current}), stopping`);
  void finish(1, `the watchdog stopped the run after ${knobs.timeoutS} s, during "${current}"`);
}, knobs.timeoutS * 1000);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void finish(130, `interrupted by ${signal} during "${current}"`));
process.on('uncaughtException', (err) => {
  console.error('bench: uncaught', err);
  void finish(1, `crashed during "${current}": ${errorText(err)}`);
});
process.on('unhandledRejection', (err) => console.error('bench: unhandled rejection', err));

/** Caps on each scenario's wall time (s, full run): past it the scenario is reported as timed out. */
const BUDGET: Record<Scenario, number> = {
  coldstart: 150,
  fanout: 300,
  saturation: 300,
  channels: 360,
  send: 120,
  roundtrips: 150,
  memory: 240,
  subscriptions: 240,
  history: 240,
  search: 600,
  voice: 360,
};

async function scenario(name: string, budgetS: number, fn: () => Promise<void>) {
  current = name;
  const t0 = Date.now();
  console.error(`bench: ---- ${name}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${budgetS} s`)), budgetS * 1000);
      }),
    ]);
  } catch (err) {
    console.error(`bench: ${name} failed:`, err);
    bench.report.failed(name, errorText(err));
    // a timed-out scenario may still drive its workers: replace them
    if (/timed out/.test(errorText(err))) await bench.resetWorkers().catch(() => {});
    else await bench.disconnectAll().catch(() => {});
  } finally {
    clearTimeout(timer);
    bench.noteServerLogs(name);
  }
  console.error(`bench: ---- ${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

async function main() {
  await bench.init();
  const on = (s: Scenario) => knobs.only.has(s);
  const budget = (s: Scenario) => Math.round(BUDGET[s] * scale + (s === 'fanout' && on('saturation') ? BUDGET.saturation * scale : 0));

  const prestart = await runPrestart();
  if (prestart) bench.report.note(`ran package.json's prestart once before the instances: \`${prestart}\``);

  if (on('coldstart')) await scenario('coldstart', budget('coldstart'), () => coldstart(bench));
  if (on('voice')) await scenario('voice', budget('voice'), () => voice(bench));

  const pgScenarios: Scenario[] = ['fanout', 'saturation', 'channels', 'send', 'roundtrips', 'memory', 'subscriptions', 'history', 'search'];
  if (!pgScenarios.some(on)) return;

  current = 'set-up';
  const t0 = Date.now();
  const two = on('fanout') || on('saturation') || on('channels');
  await bench.ensureInstances(two ? 2 : 1);
  if (two || on('memory')) await bench.ensureRelays(two ? 2 : 1);
  await bench.ensureWorkers();
  const poolSize = Math.max(
    1,
    on('fanout') || on('saturation') ? knobs.fanoutSubscribers + knobs.fanoutSenders : 0,
    on('channels') ? knobs.channels * knobs.channelSubscribers + knobs.channelSenders : 0,
    on('send') ? knobs.sendConcurrency : 0,
    on('roundtrips') ? 4 : 0,
    on('memory') ? knobs.memoryConnections + knobs.memoryWarmup + 2 : 0,
  );
  await bench.ensureUsers(poolSize);
  bench.noteServerLogs('set-up');
  bench.report.note(
    `set-up: ${bench.instances.length} API instances, ${bench.relays.length} relays, ${bench.users.length} users registered and joined through the API in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );

  if (on('fanout') || on('saturation'))
    await scenario(on('fanout') ? 'fanout' : 'saturation', budget('fanout'), () => fanout(bench, { fixed: on('fanout'), saturation: on('saturation') }));
  if (on('channels')) await scenario('channels', budget('channels'), () => channels(bench));
  if (on('send')) await scenario('send', budget('send'), () => send(bench));
  if (on('roundtrips')) await scenario('roundtrips', budget('roundtrips'), () => roundtrips(bench));
  if (on('memory')) await scenario('memory', budget('memory'), () => memory(bench));
  if (on('subscriptions')) await scenario('subscriptions', budget('subscriptions'), () => subscriptions(bench));
  if (on('history')) await scenario('history', budget('history'), () => history(bench));
  if (on('search')) await scenario('search', budget('search'), () => search(bench));
}

main().then(
  () => finish(0),
  (err) => {
    console.error('bench: failed', err);
    return finish(1, `failed during "${current}": ${errorText(err)}`);
  },
);
