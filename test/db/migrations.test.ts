// The start-up check that decides whether Prisma's schema engine must run at all.
import { describe, expect, it } from 'vitest';
import { type AppliedMigration, type LocalMigration, allApplied, localMigrations, migrationsUpToDate } from '../../src/db/migrations.js';

const local: LocalMigration[] = [
  { name: '20260101000000_init', checksum: 'a'.repeat(64) },
  { name: '20260102000000_more', checksum: 'b'.repeat(64) },
];
const row = (m: LocalMigration, over: Partial<AppliedMigration> = {}): AppliedMigration => ({
  migration_name: m.name,
  checksum: m.checksum!,
  finished: true,
  rolled_back: false,
  ...over,
});

describe('allApplied', () => {
  it('is true when every local migration is recorded as finished with its checksum', () => {
    expect(allApplied(local, local.map((m) => row(m)))).toBe(true);
  });

  it('is false when a migration is pending', () => {
    expect(allApplied(local, [row(local[0]!)])).toBe(false);
    expect(allApplied(local, [])).toBe(false);
  });

  it('is false when a migration was edited after it was applied', () => {
    expect(allApplied(local, [row(local[0]!), row(local[1]!, { checksum: 'c'.repeat(64) })])).toBe(false);
  });

  it('is false when a migration failed (the engine reports it)', () => {
    expect(allApplied(local, [...local.map((m) => row(m)), row(local[1]!, { finished: false })])).toBe(false);
  });

  it('ignores a rolled-back attempt once the migration is applied again', () => {
    const rows = [row(local[0]!), row(local[1]!, { finished: false, rolled_back: true }), row(local[1]!)];
    expect(allApplied(local, rows)).toBe(true);
  });

  it('is false when a migration folder has no migration.sql', () => {
    const broken = [...local, { name: '20260103000000_empty', checksum: null }];
    expect(allApplied(broken, local.map((m) => row(m)))).toBe(false);
  });

  it('accepts migrations recorded in the database but not present here (as migrate deploy does)', () => {
    expect(allApplied(local, [...local.map((m) => row(m)), row({ name: '20250101000000_old', checksum: 'd'.repeat(64) })])).toBe(true);
  });
});

describe('migrationsUpToDate', () => {
  it('is false on a database without _prisma_migrations, without reading the table', async () => {
    const asked: string[] = [];
    const query = async <T>(sql: string) => {
      asked.push(sql);
      return [{ present: false }] as T[];
    };
    expect(await migrationsUpToDate(query, local)).toBe(false);
    expect(asked).toHaveLength(1);
  });

  it('reads the committed migrations with the checksums Prisma records (sha256 of migration.sql)', async () => {
    const migrations = await localMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    for (const m of migrations) expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(migrations.map((m) => m.name)).toEqual([...migrations.map((m) => m.name)].sort());
  });
});
