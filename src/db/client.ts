// One Prisma client over either backend: PGlite in-process (no DATABASE_URL) or a
// PostgreSQL server through node-postgres. Everything above this file is backend-agnostic.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { type QueryCounter, countQueries } from './queryCounter.js';

export type Db = PrismaClient;

export interface Database {
  prisma: Db;
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  kind: 'pglite' | 'postgres';
  /** statements sent through Prisma since start (src/db/queryCounter.ts) */
  queries: QueryCounter;
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

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl) : openPglite(opts.pgliteDataDir);
}

async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir === ':memory:' || dataDir.startsWith('memory://');
  if (!inMemory) await mkdir(dataDir, { recursive: true });
  const client = new PGlite(inMemory ? undefined : dataDir);
  await client.waitReady;
  const adapterFactory = new PrismaPGlite(client);
  const counted = countQueries(adapterFactory);
  const prisma = new PrismaClient({ adapter: counted.factory });
  return {
    prisma,
    adapterFactory,
    queries: counted.counter,
    kind: 'pglite',
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
class PrismaPgWholeScripts extends PrismaPg {
  override async connect() {
    const adapter = await super.connect();
    // errors go through the adapter's own conversion, as those of its other methods do
    const { onError } = adapter as unknown as { onError(error: unknown): never };
    adapter.executeScript = async (script: string) => {
      await (adapter.underlyingDriver() as pg.Pool).query(script).catch((error: unknown) => onError.call(adapter, error));
    };
    return adapter;
  }
}

async function openPostgres(connectionString: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // A pool error (server restart) must not crash the process; queries will report it.
  pool.on('error', () => {});
  const counted = countQueries(new PrismaPg(pool));
  const prisma = new PrismaClient({ adapter: counted.factory });
  return {
    prisma,
    queries: counted.counter,
    // The schema engine opens its own short-lived pool and never disposes it: keep its
    // idle connections from holding the process open after a migration.
    adapterFactory: new PrismaPgWholeScripts({ connectionString, max: 2, idleTimeoutMillis: 200 }),
    kind: 'postgres',
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
