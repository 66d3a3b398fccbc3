// One Prisma client over either backend: PGlite in-process (no DATABASE_URL) or a
// PostgreSQL server through node-postgres. Everything above this file is backend-agnostic.
// Each backend's packages are imported only when that backend is used (start-up time), and a
// fresh embedded data directory starts from the pre-migrated template (./template.ts).
import { mkdir } from 'node:fs/promises';
import v8 from 'node:v8';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client.js';
import { type QueryCounter, countQueries } from './queryCounter.js';
import { type Statements, connectStatements, preparedName } from './statements.js';
import { isFreshDataDir, restoreTemplate, templateTarball } from './template.js';

export type Db = PrismaClient;

export interface Database {
  prisma: Db;
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  kind: 'pglite' | 'postgres';
  /** statements sent through Prisma since start (src/db/queryCounter.ts) */
  queries: QueryCounter;
  /** the hottest statements, on Prisma's driver adapter without its client (./statements.ts) */
  statements: Statements;
  /** Raw SQL outside Prisma, not counted (start-up checks that need not load Prisma's engine). */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs fn while holding a cluster-wide lock (migrations from instances starting together). */
  withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  pgliteDataDir: string;
}

// An arbitrary constant: every instance of this service contends for the same lock.
const MIGRATION_LOCK_KEY = 727_001;

const prismaClientClass = () => import('../generated/prisma/client.js').then((m) => m.PrismaClient);

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl) : openPglite(opts.pgliteDataDir);
}

const isInMemory = (dataDir: string) => dataDir === ':memory:' || dataDir.startsWith('memory://');

const preopened = new Map<string, Promise<PGlite>>();

/**
 * Starts opening the embedded database before buildApp asks for it, so that PGlite's
 * WebAssembly compiles and its files load while the rest of the app's modules are imported
 * (src/index.ts). The next openDatabase of the same directory takes it over. No-op on PostgreSQL.
 */
export function preopenDatabase(opts: DatabaseOptions): void {
  if (opts.databaseUrl || isInMemory(opts.pgliteDataDir) || preopened.has(opts.pgliteDataDir)) return;
  const opening = startPglite(opts.pgliteDataDir);
  opening.catch(() => {}); // reported by the openDatabase that takes it over
  preopened.set(opts.pgliteDataDir, opening);
}

async function startPglite(dataDir: string): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  let options: PGliteOptions = {};
  if (isInMemory(dataDir)) {
    const loadDataDir = await templateTarball().catch(() => undefined);
    if (loadDataDir) options = { loadDataDir };
  } else {
    if (await isFreshDataDir(dataDir)) await restoreTemplate(dataDir);
    await mkdir(dataDir, { recursive: true });
  }
  return withWasmTierUpDeferred(async () => {
    const client = isInMemory(dataDir) ? new PGlite(options) : new PGlite(dataDir, options);
    await client.waitReady;
    return client;
  });
}

/** V8's default, in "bytes executed" before a WebAssembly function is compiled again with TurboFan. */
const WASM_TIERING_BUDGET = 1_800_000;

/**
 * Runs `start` (PGlite instantiating its WebAssembly Postgres and starting it) with V8's
 * tier-up budget 500 times the default. PGlite's start runs enough of Postgres to queue
 * TurboFan jobs for hundreds of functions on background threads, and the main thread's next
 * event-loop turn waited for them: 100–250 ms of idle start-up, more on a busy machine. With
 * the budget high while the instance is made, a function is optimized once it is hot in use
 * (measured: the same query speed as the default after a few seconds of queries). The budget
 * is per instance, fixed when it is made, so it is set back for any WebAssembly made later
 * (Prisma's query compiler). Left alone when node was started with a budget of its own.
 */
async function withWasmTierUpDeferred<T>(start: () => Promise<T>): Promise<T> {
  if (process.execArgv.some((arg) => arg.startsWith('--wasm-tiering-budget'))) return start();
  v8.setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET * 500}`);
  try {
    return await start();
  } finally {
    v8.setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
  }
}

async function openPglite(dataDir: string): Promise<Database> {
  const opening = preopened.get(dataDir) ?? startPglite(dataDir);
  preopened.delete(dataDir);
  const [client, { PrismaPGlite }, PrismaClient] = await Promise.all([
    opening,
    import('pglite-prisma-adapter'),
    prismaClientClass(),
  ]);
  const adapterFactory = new PrismaPGlite(client);
  const counted = countQueries(adapterFactory);
  const prisma = new PrismaClient({ adapter: counted.factory });
  return {
    prisma,
    statements: await connectStatements(counted.factory),
    adapterFactory,
    queries: counted.counter,
    kind: 'pglite',
    query: async <T>(sql: string, params?: unknown[]) => (await client.query<T>(sql, params)).rows,
    // PGlite lives inside this one process: nothing else can migrate it concurrently.
    withMigrationLock: (fn) => fn(),
    ping: async () => {
      await client.query('SELECT 1');
    },
    close: async () => {
      await prisma.$disconnect();
      await client.close();
    },
  };
}

/**
 * For the schema engine: Prisma's pg adapter runs a migration script split at every ';',
 * which cuts SQL function bodies (`$$ … $$`, the counter triggers) apart. This one sends the
 * script whole, as one simple-protocol query (one implicit transaction), as Prisma's native
 * schema engine does; PGlite's adapter already runs scripts whole.
 */
function wholeScriptsAdapter(PrismaPg: typeof import('@prisma/adapter-pg').PrismaPg) {
  return class PrismaPgWholeScripts extends PrismaPg {
    override async connect() {
      const adapter = await super.connect();
      // errors go through the adapter's own conversion, as those of its other methods do
      const { onError } = adapter as unknown as { onError(error: unknown): never };
      adapter.executeScript = async (script: string) => {
        await (adapter.underlyingDriver() as pg.Pool).query(script).catch((error: unknown) => onError.call(adapter, error));
      };
      return adapter;
    }
  };
}

async function openPostgres(connectionString: string): Promise<Database> {
  const [{ default: pg }, { PrismaPg }, PrismaClient] = await Promise.all([
    import('pg'),
    import('@prisma/adapter-pg'),
    prismaClientClass(),
  ]);
  const PrismaPgWholeScripts = wholeScriptsAdapter(PrismaPg);
  // a server that does not answer fails the request within seconds instead of hanging it
  const pool = new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: 5_000 });
  // A pool error (server restart) must not crash the process; queries will report it.
  pool.on('error', () => {});
  // unnamed statements are parsed and planned by the server on every call; the marked hot
  // ones (statements.ts) are prepared once per connection
  const counted = countQueries(new PrismaPg(pool, { statementNameGenerator: (query) => preparedName(query.sql) as string }));
  const prisma = new PrismaClient({ adapter: counted.factory });
  return {
    prisma,
    statements: await connectStatements(counted.factory),
    queries: counted.counter,
    // The schema engine opens its own short-lived pool and never disposes it: keep its
    // idle connections from holding the process open after a migration.
    adapterFactory: new PrismaPgWholeScripts({ connectionString, max: 2, idleTimeoutMillis: 200 }),
    kind: 'postgres',
    query: async <T>(sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows as T[],
    withMigrationLock: async (fn) => {
      const lockClient = new pg.Client({ connectionString });
      await lockClient.connect();
      try {
        await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        return await fn();
      } finally {
        await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
        await lockClient.end();
      }
    },
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: async () => {
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}
