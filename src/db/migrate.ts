import type { Database } from './client.js';
import { migrationsUpToDate } from './migrations.js';

/**
 * Applies pending migrations once, even when several instances start at the same moment.
 * When `_prisma_migrations` already lists every local migration (the usual restart) this is
 * two small queries; Prisma's schema engine is loaded only when there is something to do.
 */
export async function migrateDatabase(db: Database): Promise<string[]> {
  if (await migrationsUpToDate((sql) => db.query(sql))) return [];
  const { applyMigrations } = await import('./schemaEngine.js');
  return db.withMigrationLock(() => applyMigrations(db.adapterFactory));
}
