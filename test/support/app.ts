// Boots the real service for a test file: its own database (a fresh in-memory PGlite, or a
// fresh database on TEST_DATABASE_URL's server) and, with TEST_REDIS_URL, real Redis.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type App, buildApp } from '../../src/server.js';
import { type ScratchDatabase, createScratchDatabase } from './database.js';
import { testRedisKeyPrefix } from './redis.js';

export interface TestServer {
  app: App;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  databaseUrl?: string;
  stop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);
export const usingRedis = Boolean(process.env.TEST_REDIS_URL);

/** A fresh, empty database on the test server; dropped by the returned function. */
export async function createTestDatabase(): Promise<ScratchDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  return createScratchDatabase(adminUrl);
}

export interface StartOptions {
  env?: Record<string, string>;
  /** share another server's database (a second instance) instead of creating one */
  databaseUrl?: string;
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const database = options.databaseUrl || !usingPostgres ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? database?.url;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    PGLITE_DATA_DIR: ':memory:',
    ARGON2_MEMORY_KIB: '1024',
    // tests send in bursts; the limits themselves are tested with low values
    MESSAGE_RATE_LIMIT: '1000',
    LOGIN_FAILURE_LIMIT: '1000',
    // every test client comes from 127.0.0.1, and with Redis the counts outlive a run
    LOGIN_ADDRESS_LIMIT: '0',
    REGISTER_ADDRESS_LIMIT: '0',
    SEARCH_RATE_LIMIT: '0',
    // most suites count guilds and members: the lobby (DEFAULT_GUILD_NAME) has its own tests
    DEFAULT_GUILD_NAME: '',
    // every test client connects from 127.0.0.1
    WS_CONNECTIONS_PER_MINUTE_PER_ADDRESS: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    REDIS_KEY_PREFIX: testRedisKeyPrefix,
    ...options.env,
  });
  const app = await buildApp({ config, log: createLogger(config.LOG_LEVEL) });
  await app.start(0, '127.0.0.1');
  return {
    app,
    url: app.url,
    graphqlUrl: `${app.url}/graphql`,
    wsUrl: `${app.url.replace(/^http/, 'ws')}/graphql`,
    databaseUrl,
    async stop() {
      await app.stop();
      await database?.drop();
    },
  };
}

/**
 * Instances with different settings on one database of the calling file, as a restart or a
 * rolling deploy would see it: beside the first one on PostgreSQL, after it on the same data
 * directory with PGlite (one process at a time may open it). `done` stops an instance (the
 * first one on PostgreSQL is kept, it holds the database); `close` ends them all.
 */
export function instancesOnOneDatabase(tmpPrefix: string) {
  let dir: string | undefined;
  let first: TestServer | undefined;
  return {
    async instance(env: Record<string, string>): Promise<TestServer> {
      if (usingPostgres) {
        if (!first) return (first = await startTestServer({ env }));
        return startTestServer({ env, databaseUrl: first.databaseUrl });
      }
      dir ??= await mkdtemp(path.join(tmpdir(), tmpPrefix));
      return startTestServer({ env: { ...env, PGLITE_DATA_DIR: dir } });
    },
    async done(server: TestServer): Promise<void> {
      if (server !== first) await server.stop();
    },
    async close(): Promise<void> {
      await first?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the server has a live subscription on a topic key (a subscription started
 *  with graphql-ws is acknowledged by nothing, so tests ask the PubSub itself). */
export async function waitForListener(
  server: TestServer,
  topic: Parameters<TestServer['app']['pubsub']['listenerCount']>[0],
  key: string,
  atLeast = 1,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await server.app.pubsub.listenerCount(topic, key)) < atLeast) {
    if (Date.now() > deadline) throw new Error(`no subscription on ${topic}:${key}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
