// npm run bench: boots the real service in this process on 127.0.0.1 and measures
//   (a) sendMessage throughput and latency over HTTP with concurrent senders,
//   (b) history paging latency (channel.messages(first: 50), walking back through the history),
//   (c) subscription fan-out: graphql-ws subscribers on one channel, send -> every delivery,
//   (d) the process's memory (RSS, heap) before boot, after boot and after the load,
// and prints the results as a Markdown table.
//
//   npm run bench                                   embedded default (PGlite on disk, in-memory PubSub)
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//   BENCH_REDIS_URL=redis://127.0.0.1:6379 npm run bench
//                                                   a fresh database on that server (dropped after),
//                                                   real-time through Redis
//
// Knobs (all bounded): BENCH_MESSAGES (2000), BENCH_CONCURRENCY (16), BENCH_PAGES (200),
// BENCH_PAGE_SIZE (50), BENCH_SUBSCRIBERS (100), BENCH_FANOUT_ROUNDS (30),
// BENCH_PGLITE_DIR (a fresh temp dir; ':memory:' for in-memory), BENCH_TIMEOUT_S (600).
//
// The load generator shares the event loop (and the 2 cores) with the server, so absolute
// numbers include the clients' own work: compare runs on the same machine, not across machines.
// Every address is loopback: the service listens on 127.0.0.1, and database and Redis URLs
// must point at this machine.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Client as WsClient, createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { type App, buildApp } from '../src/server.js';
import { createScratchDatabase } from '../test/support/database.js';

// ---------------------------------------------------------------------------------------------
// settings

function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer in [${min}, ${max}]`);
  return n;
}

const MESSAGES = intEnv('BENCH_MESSAGES', 2000, 1, 100_000);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 16, 1, 256);
const PAGES = intEnv('BENCH_PAGES', 200, 1, 10_000);
const PAGE_SIZE = intEnv('BENCH_PAGE_SIZE', 50, 1, 100);
const SUBSCRIBERS = intEnv('BENCH_SUBSCRIBERS', 100, 1, 2000);
const FANOUT_ROUNDS = intEnv('BENCH_FANOUT_ROUNDS', 30, 1, 1000);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT_S', 600, 10, 3600);
const DATABASE_URL = process.env.BENCH_DATABASE_URL || undefined;
const REDIS_URL = process.env.BENCH_REDIS_URL || undefined;

function assertLoopback(name: string, value: string | undefined) {
  if (!value) return;
  const host = new URL(value).hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`${name} must point at this machine (127.0.0.1, localhost or ::1), not ${host}`);
  }
}
assertLoopback('BENCH_DATABASE_URL', DATABASE_URL);
assertLoopback('BENCH_REDIS_URL', REDIS_URL);

// The whole run is bounded: a hang ends the process with a failure.
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${TIMEOUT_S} s, giving up`);
  process.exit(1);
}, TIMEOUT_S * 1000);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// small helpers

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / (values.length || 1);
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

/** Runs `count` jobs on `workers` concurrent workers; job(i, worker). */
async function pool(count: number, workers: number, job: (i: number, worker: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, count) }, async (_, worker) => {
      while (next < count) {
        const i = next++;
        await job(i, worker);
      }
    }),
  );
}

interface GraphQLResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

class HttpClient {
  token?: string;
  userId?: string;
  constructor(readonly graphqlUrl: string) {}

  async request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const res = await fetch(this.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GraphQLResult<T>;
    if (body.errors?.length || !body.data) {
      throw new Error(`GraphQL error (HTTP ${res.status}): ${JSON.stringify(body.errors ?? body)}`);
    }
    return body.data;
  }
}

// ---------------------------------------------------------------------------------------------
// operations (the same shapes a client would send; see examples/operations.graphql)

const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken user { id } }
}`;
const CREATE_GUILD = `mutation CreateGuild($input: CreateGuildInput!) {
  createGuild(input: $input) { id channels { id } }
}`;
const CREATE_INVITE = `mutation CreateInvite($guildId: ID!) { createInvite(guildId: $guildId) { code } }`;
const JOIN_GUILD = `mutation JoinGuild($code: String!) { joinGuild(inviteCode: $code) { id } }`;
const SEND_MESSAGE = `mutation SendMessage($input: SendMessageInput!) {
  sendMessage(input: $input) { id content createdAt author { id username } }
}`;
const CHANNEL_MESSAGES = `query ChannelMessages($channelId: ID!, $first: Int!, $after: String) {
  channel(id: $channelId) {
    id
    messages(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id content createdAt editedAt author { id username displayName } } }
    }
  }
}`;
const MESSAGE_ADDED = `subscription MessageAdded($channelId: ID!) {
  messageAdded(channelId: $channelId) { id content createdAt author { id username } }
}`;

// ---------------------------------------------------------------------------------------------
// environment: database, Redis, the app

interface Environment {
  app: App;
  graphqlUrl: string;
  wsUrl: string;
  database: string;
  cleanup(): Promise<void>;
}

async function boot(): Promise<Environment> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'chat-bench-'));
  const database = DATABASE_URL ? await createScratchDatabase(DATABASE_URL, 'chat_bench') : undefined;
  const pgliteDir = process.env.BENCH_PGLITE_DIR || path.join(tmp, 'pglite');
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PGLITE_DATA_DIR: pgliteDir,
    UPLOAD_DIR: path.join(tmp, 'uploads'),
    // Registration is set-up, not a measured path: a cheap password hash keeps it short.
    ARGON2_MEMORY_KIB: '1024',
    // 16 senders at full speed would hit the per-user message limit: measure the server, not the limit.
    MESSAGE_RATE_LIMIT: '0',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(REDIS_URL ? { REDIS_URL } : {}),
  });
  const app = await buildApp({ config, log: createLogger(config.LOG_LEVEL) });
  await app.start(0, '127.0.0.1');
  return {
    app,
    graphqlUrl: `${app.url}/graphql`,
    wsUrl: `${app.url.replace(/^http/, 'ws')}/graphql`,
    database: database
      ? `PostgreSQL (${new URL(DATABASE_URL!).host}, fresh database)`
      : `PGlite (${pgliteDir === ':memory:' ? 'in memory' : 'on disk, fresh temp dir'})`,
    async cleanup() {
      await app.stop();
      await database?.drop();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** What /health/ready reports; a `redis` check there means the app wired Redis in. */
async function readiness(url: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/health/ready`);
  const body = (await res.json()) as { checks?: Record<string, string> };
  return body.checks ?? {};
}

async function redisCommandsProcessed(redis: Redis): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

// ---------------------------------------------------------------------------------------------
// the run

async function register(graphqlUrl: string, prefix: string, count: number): Promise<HttpClient[]> {
  const clients: HttpClient[] = [];
  const run = randomBytes(3).toString('hex');
  await pool(count, 4, async (i) => {
    const client = new HttpClient(graphqlUrl);
    const username = `${prefix}${run}${i}`;
    const data = await client.request<{ register: { accessToken: string; user: { id: string } } }>(REGISTER, {
      input: { username, email: `${username}@bench.invalid`, password: 'correct horse battery staple' },
    });
    client.token = data.register.accessToken;
    client.userId = data.register.user.id;
    clients[i] = client;
  });
  return clients;
}

interface Row {
  metric: string;
  value: string;
}

async function main() {
  const rows: Row[] = [];
  const add = (metric: string, value: string) => rows.push({ metric, value });
  const memStart = memory();

  const env = await boot();
  const memBoot = memory();
  const checks = await readiness(env.app.url);
  const realtime = 'redis' in checks ? 'Redis' : 'in-process';
  const redis = REDIS_URL ? new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
  if (redis) await redis.connect();
  const redisCommandsStart = redis ? await redisCommandsProcessed(redis) : Number.NaN;
  const started = now();

  try {
    // ---- set-up: an owner, the senders, the subscribers, all in one guild -------------------
    const setupStart = now();
    const [owner] = await register(env.graphqlUrl, 'owner', 1);
    const senders = await register(env.graphqlUrl, 'sender', CONCURRENCY);
    const listeners = await register(env.graphqlUrl, 'listener', SUBSCRIBERS);
    const { createGuild } = await owner!.request<{ createGuild: { id: string; channels: { id: string }[] } }>(
      CREATE_GUILD,
      { input: { name: 'Bench guild' } },
    );
    const guildId = createGuild.id;
    const channelId = createGuild.channels[0]!.id;
    const { createInvite } = await owner!.request<{ createInvite: { code: string } }>(CREATE_INVITE, { guildId });
    await pool(senders.length + listeners.length, 4, async (i) => {
      const client = i < senders.length ? senders[i]! : listeners[i - senders.length]!;
      await client.request(JOIN_GUILD, { code: createInvite.code });
    });
    const setupMs = now() - setupStart;

    // ---- (a) sendMessage throughput ------------------------------------------------------------
    const send = async (client: HttpClient, content: string) => {
      const data = await client.request<{ sendMessage: { id: string } }>(SEND_MESSAGE, {
        input: { channelId, content },
      });
      return data.sendMessage.id;
    };
    const padding = ' lorem ipsum dolor sit amet'.repeat(3);
    await pool(Math.min(50, MESSAGES), CONCURRENCY, (i, w) => send(senders[w]!, `warm-up ${i}${padding}`).then(() => {}));
    const sendLatencies: number[] = [];
    let sendErrors = 0;
    let firstError = '';
    const sendStart = now();
    await pool(MESSAGES, CONCURRENCY, async (i, w) => {
      const t0 = now();
      try {
        await send(senders[w]!, `message ${i}${padding}`);
        sendLatencies.push(now() - t0);
      } catch (err) {
        sendErrors++;
        firstError ||= (err as Error).message;
      }
    });
    const sendWall = (now() - sendStart) / 1000;
    const memAfterSend = memory();

    // ---- (b) history paging --------------------------------------------------------------------
    const pageLatencies: number[] = [];
    let cursor: string | null = null;
    let pagesWalked = 0;
    let wraps = 0;
    let firstWalk = 0;
    for (let i = 0; i < PAGES; i++) {
      const t0 = now();
      type Page = { channel: { messages: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: unknown[] } } };
      const data: Page = await owner!.request<Page>(CHANNEL_MESSAGES, { channelId, first: PAGE_SIZE, after: cursor });
      pageLatencies.push(now() - t0);
      pagesWalked++;
      const { pageInfo } = data.channel.messages;
      if (pageInfo.hasNextPage && pageInfo.endCursor) cursor = pageInfo.endCursor;
      else {
        cursor = null; // back to the newest page
        if (!wraps) firstWalk = pagesWalked;
        wraps++;
      }
    }

    // ---- (c) subscription fan-out ----------------------------------------------------------------
    const deliveries = new Map<string, number[]>();
    const received = new Array<number>(listeners.length).fill(0);
    const wsClients: WsClient[] = [];
    const disposers: (() => void)[] = [];
    let subscriptionErrors = 0;
    const connectStart = now();
    listeners.forEach((listener, i) => {
      const client = createClient({
        url: env.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${listener.token}` },
        retryAttempts: 0,
        lazy: true,
      });
      wsClients.push(client);
      disposers.push(
        client.subscribe<{ messageAdded: { id: string } }>(
          { query: MESSAGE_ADDED, variables: { channelId } },
          {
            next: (result) => {
              const id = result.data?.messageAdded.id;
              if (!id) {
                subscriptionErrors++;
                return;
              }
              received[i]!++;
              const list = deliveries.get(id);
              if (list) list.push(now());
              else deliveries.set(id, [now()]);
            },
            error: () => subscriptionErrors++,
            complete: () => {},
          },
        ),
      );
    });
    // Subscriptions are acknowledged by nothing: send warm-up messages until every subscriber
    // has received one (bounded).
    const readyDeadline = now() + 30_000;
    while (received.some((n) => n === 0)) {
      if (now() > readyDeadline) throw new Error(`only ${received.filter((n) => n > 0).length}/${listeners.length} subscribers live after 30 s`);
      await send(senders[0]!, 'fan-out warm-up');
      await sleep(100);
    }
    const subscribeMs = now() - connectStart;

    // While subscribed: how many Redis channels carry them, if Redis is in use.
    const redisChannelNames = redis ? ((await redis.call('PUBSUB', 'CHANNELS', '*')) as string[]) : [];
    // Grouped by name without its last segment (the id): "chat:messageAdded:<id>" -> "chat:messageAdded".
    const redisChannelGroups = new Map<string, number>();
    for (const name of redisChannelNames) {
      const group = name.includes(':') ? name.slice(0, name.lastIndexOf(':')) : name;
      redisChannelGroups.set(group, (redisChannelGroups.get(group) ?? 0) + 1);
    }
    const redisChannels = [...redisChannelGroups].map(([group, n]) => `${group} x${n}`).join(', ') || 'none';

    const fanoutLast: number[] = [];
    const fanoutFirst: number[] = [];
    const fanoutEach: number[] = [];
    let missed = 0;
    for (let round = 0; round < FANOUT_ROUNDS; round++) {
      const t0 = now();
      const id = await send(senders[round % senders.length]!, `fan-out ${round}`);
      const deadline = now() + 10_000;
      while ((deliveries.get(id)?.length ?? 0) < listeners.length && now() < deadline) await sleep(1);
      const times = deliveries.get(id) ?? [];
      if (times.length < listeners.length) missed += listeners.length - times.length;
      if (times.length) {
        fanoutFirst.push(Math.min(...times) - t0);
        fanoutLast.push(Math.max(...times) - t0);
        for (const t of times) fanoutEach.push(t - t0);
      }
      deliveries.delete(id);
    }
    const memPeak = memory();
    for (const dispose of disposers) dispose();
    await Promise.all(wsClients.map((c) => c.dispose()));

    const redisCommands = redis ? (await redisCommandsProcessed(redis)) - redisCommandsStart : Number.NaN;
    const memEnd = memory();
    const totalS = (now() - started) / 1000;

    // ---- report ----------------------------------------------------------------------------------
    add('database', env.database);
    add('real-time backend (from /health/ready)', realtime);
    if (REDIS_URL) {
      add(
        'Redis used by the app',
        realtime === 'Redis'
          ? `yes: ${redisCommands} Redis commands during the run; channels subscribed during fan-out: ${redisChannels}`
          : `NO: REDIS_URL was passed but /health/ready has no redis check (${redisCommands} commands seen)`,
      );
    }
    add('set-up (register 1+' + `${CONCURRENCY}+${SUBSCRIBERS} users, guild, joins)`, `${(setupMs / 1000).toFixed(1)} s`);
    add(`(a) sendMessage: ${MESSAGES} messages, ${CONCURRENCY} concurrent senders`, `${(sendLatencies.length / sendWall).toFixed(0)} msg/s (${sendWall.toFixed(1)} s)`);
    add('(a) sendMessage latency p50 / p95 / p99', `${ms(percentile(sendLatencies, 50))} / ${ms(percentile(sendLatencies, 95))} / ${ms(percentile(sendLatencies, 99))}`);
    add('(a) sendMessage errors', sendErrors ? `${sendErrors} (first: ${firstError.slice(0, 120)})` : '0');
    add(`(b) history page (first: ${PAGE_SIZE}), ${pagesWalked} pages sequential`, `p50 ${ms(percentile(pageLatencies, 50))} / p95 ${ms(percentile(pageLatencies, 95))} / max ${ms(Math.max(...pageLatencies))}`);
    add('(b) pages from newest to oldest message', wraps ? `${firstWalk} (history walked ${wraps}x)` : `more than ${pagesWalked}`);
    add(`(c) fan-out: ${SUBSCRIBERS} graphql-ws subscribers, connect + first event`, `${(subscribeMs / 1000).toFixed(1)} s`);
    add(`(c) send -> last of ${SUBSCRIBERS} deliveries, ${FANOUT_ROUNDS} rounds`, `p50 ${ms(percentile(fanoutLast, 50))} / p95 ${ms(percentile(fanoutLast, 95))}`);
    add('(c) send -> first delivery', `p50 ${ms(percentile(fanoutFirst, 50))} / p95 ${ms(percentile(fanoutFirst, 95))}`);
    add('(c) send -> each delivery (all subscribers)', `p50 ${ms(percentile(fanoutEach, 50))} / p95 ${ms(percentile(fanoutEach, 95))} / mean ${ms(mean(fanoutEach))}`);
    add('(c) deliveries missed / subscription errors', `${missed} / ${subscriptionErrors}`);
    add('(d) RSS after loading modules (before boot) / after boot', `${mib(memStart.rss)} / ${mib(memBoot.rss)}`);
    add('(d) RSS after sends / with subscribers / at end', `${mib(memAfterSend.rss)} / ${mib(memPeak.rss)} / ${mib(memEnd.rss)}`);
    add('(d) heap used after boot / at end', `${mib(memBoot.heapUsed)} / ${mib(memEnd.heapUsed)}`);
    add('total measured time', `${totalS.toFixed(1)} s`);

    console.log('');
    console.log(`### Chat backend benchmark: ${env.database}, real-time ${realtime}`);
    console.log('');
    console.log(`Node ${process.version}, ${os.cpus().length} cores, ${os.platform()}; server and load generator in one process.`);
    console.log('');
    console.log('| metric | value |');
    console.log('| --- | --- |');
    for (const r of rows) console.log(`| ${r.metric} | ${r.value.replace(/\|/g, '\\|')} |`);
    console.log('');
    if (sendErrors || missed || subscriptionErrors) process.exitCode = 1;
  } finally {
    await redis?.quit().catch(() => {});
    await env.cleanup();
  }
}

main().then(
  // The schema engine and pools may leave timers behind: do not wait for them.
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
