import type { Database } from './client.js';
import { applyMigrations } from './schemaEngine.js';

/** Applies pending migrations once, even when several instances start at the same moment. */
export function migrateDatabase(db: Database): Promise<string[]> {
  return db.withMigrationLock(() => applyMigrations(db.adapterFactory));
}
