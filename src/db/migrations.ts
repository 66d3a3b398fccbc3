// The committed migrations (prisma/migrations/<name>/migration.sql, Prisma's own folder format)
// and a cheap check of whether a database already has every one of them. Start-up runs this
// check first and loads Prisma's schema engine (WebAssembly, several hundred ms) only when
// something is pending: the engine stays the one that applies and records migrations.
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root, from src/db/ (tsx) and dist/db/ (compiled) alike. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCHEMA_PATH = path.join(PROJECT_ROOT, 'prisma/schema.prisma');
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma/migrations');

export interface LocalMigration {
  name: string;
  /** sha256 of migration.sql in hex, as Prisma records it; null when the file is missing */
  checksum: string | null;
}

/** The migration folders in the order Prisma applies them (by name). */
export async function localMigrations(): Promise<LocalMigration[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true }).catch(() => []);
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      checksum: await readFile(path.join(MIGRATIONS_DIR, name, 'migration.sql')).then(
        (sql) => createHash('sha256').update(sql).digest('hex'),
        () => null,
      ),
    })),
  );
}

export interface AppliedMigration {
  migration_name: string;
  checksum: string;
  finished: boolean;
  rolled_back: boolean;
}

/** Raw SQL on the database, outside Prisma (see Database.query). */
export type SqlQuery = <T>(sql: string) => Promise<T[]>;

/**
 * True when `_prisma_migrations` records every local migration as finished with the same
 * checksum and none as failed: then `prisma migrate deploy` (and the schema engine) would
 * apply nothing. Anything else (no table, a pending, edited or failed migration) answers
 * false and leaves the decision, and its error messages, to the engine.
 */
export async function migrationsUpToDate(query: SqlQuery, local?: LocalMigration[]): Promise<boolean> {
  const [table] = await query<{ present: boolean }>(
    `SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS present`,
  );
  if (!table?.present) return false;
  const rows = await query<AppliedMigration>(
    `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
       FROM public._prisma_migrations`,
  );
  return allApplied(local ?? (await localMigrations()), rows);
}

export function allApplied(local: LocalMigration[], rows: AppliedMigration[]): boolean {
  if (rows.some((r) => !r.finished && !r.rolled_back)) return false; // a failed migration
  const done = new Set(rows.filter((r) => r.finished && !r.rolled_back).map((r) => `${r.migration_name}\n${r.checksum}`));
  return local.every((m) => m.checksum !== null && done.has(`${m.name}\n${m.checksum}`));
}
