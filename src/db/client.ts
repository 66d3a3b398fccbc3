// One Prisma client over either backend: PGlite on its own thread (no DATABASE_URL) or a
// PostgreSQL server through node-postgres. Everything above this file is backend-agnostic.
// Each backend's packages are imported only when that backend is used (start-up time), and a
// fresh embedded data directory starts from the pre-migrated template (./template.ts).
import type { PGlite } from '@electric-sql/pglite';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client.js';
import { type QueryCounter, countQueries } from './queryCounter.js';
import { type Statements, connectStatements, preparedName } from './statements.js';
import { isInMemory } from './pgliteProtocol.js';
import { PGliteThread } from './pgliteThread.js';

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

const preopened = new Map<string, PGliteThread>();

/**
 * Starts opening the embedded database before buildApp asks for it, so that PGlite's
 * WebAssembly compiles and its files load on the database's own thread (./pgliteThread.ts)
 * while the rest of the app's modules are imported (src/index.ts). The next openDatabase of
 * the same directory takes it over. No-op on PostgreSQL.
 */
export function preopenDatabase(opts: DatabaseOptions): void {
  if (opts.databaseUrl || isInMemory(opts.pgliteDataDir) || preopened.has(opts.pgliteDataDir)) return;
  preopened.set(opts.pgliteDataDir, new PGliteThread(opts.pgliteDataDir));
}

async function openPglite(dataDir: string): Promise<Database> {
  const client = preopened.get(dataDir) ?? new PGliteThread(dataDir);
  preopened.delete(dataDir);
  const [{ PrismaPGlite }, PrismaClient] = await Promise.all([import('pglite-prisma-adapter'), prismaClientClass()]);
  // the adapter uses query, exec and transaction, which the thread's client has
  const adapterFactory = new PrismaPGlite(client as unknown as PGlite);
  const counted = countQueries(adapterFactory);
  const prisma = new PrismaClient({ adapter: counted.factory });
  // Prisma's first query instantiates its query compiler (WebAssembly) and compiles its
  // functions on first use: ~150 ms of this thread's CPU that needs no database, done here
  // while the database's thread is still opening it. Its error, on a database not migrated
  // yet, is of no interest.
  const warmUp = prisma.instanceSetting.findUnique({ where: { key: '' }, select: { key: true } }).catch(() => null);
  await client.waitReady.catch(async (err: unknown) => {
    await client.close();
    throw err;
  });
  await warmUp;
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
