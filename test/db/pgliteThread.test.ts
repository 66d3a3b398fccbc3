// The embedded database on its own thread: what Prisma's adapter and the service rely on
// from PGlite's interface holds across the thread boundary.
import { messages } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGliteThread } from '../../src/db/pgliteThread.js';

let db: PGliteThread;

beforeAll(async () => {
  db = new PGliteThread('memory://');
  await db.waitReady;
  await db.exec('CREATE TABLE item (id int PRIMARY KEY, label text, at timestamptz)');
});

afterAll(async () => {
  await db.close();
});

describe('the embedded database on its own thread', () => {
  it('answers queries with rows as objects or arrays, parameters bound', async () => {
    await db.query('INSERT INTO item (id, label) VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
    const objects = await db.query<{ id: number; label: string }>('SELECT id, label FROM item WHERE id <= $1 ORDER BY id', [2]);
    expect(objects.rows).toEqual([
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ]);
    const arrays = await db.query('SELECT id, label FROM item ORDER BY id', [], { rowMode: 'array' });
    expect(arrays.rows).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
    expect(arrays.fields.map((f) => f.name)).toEqual(['id', 'label']);
  });

  it("runs the caller's parsers on PostgreSQL's text for the types they name", async () => {
    await db.query(`INSERT INTO item (id, label, at) VALUES (3, 'three', '2026-12-03T10:00:00Z')`);
    const TIMESTAMPTZ = 1184;
    const seen: [string, number][] = [];
    const r = await db.query<[string, string | null]>('SELECT at, label FROM item WHERE id >= 2 ORDER BY id', [], {
      rowMode: 'array',
      parsers: { [TIMESTAMPTZ]: (value, type) => (seen.push([value, type]), `parsed ${value}`) },
    });
    // a NULL stays null without reaching the parser; other types keep PGlite's parsing
    expect(r.rows).toEqual([
      [null, 'two'],
      ['parsed 2026-12-03 10:00:00+00', 'three'],
    ]);
    expect(seen).toEqual([['2026-12-03 10:00:00+00', TIMESTAMPTZ]]);
  });

  it("reports PostgreSQL's errors as PGlite's DatabaseError, with their fields, and goes on", async () => {
    const err = await db.query('INSERT INTO item (id, label) VALUES (1, $1)', ['again']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(messages.DatabaseError);
    expect(err).toMatchObject({ code: '23505', severity: 'ERROR', constraint: 'item_pkey', table: 'item' });
    expect((await db.query('SELECT count(*)::int AS n FROM item')).rows).toEqual([{ n: 3 }]);
  });

  it('keeps other queries out of an open transaction, and rolls it back when asked', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertDone = new Promise<void>((resolve) => (inserted = resolve));
    const tx = db.transaction(async (t) => {
      await t.query(`INSERT INTO item (id, label) VALUES (10, 'inside')`);
      inserted();
      await held;
      await t.rollback();
    });
    await insertDone;
    // asked while the transaction is open: answered after it, and never sees its row
    const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM item WHERE id = 10');
    const order: string[] = [];
    void outside.then(() => order.push('outside'));
    release();
    await tx.then(() => order.push('transaction'));
    expect((await outside).rows).toEqual([{ n: 0 }]);
    expect(order).toEqual(['transaction', 'outside']);
  });

  it('commits what the callback did, and rolls back when it throws', async () => {
    await db.transaction(async (t) => {
      await t.query(`INSERT INTO item (id, label) VALUES (20, 'kept')`);
    });
    await expect(
      db.transaction(async (t) => {
        await t.query(`INSERT INTO item (id, label) VALUES (21, 'dropped')`);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await db.query('SELECT id FROM item WHERE id >= 20 ORDER BY id')).rows).toEqual([{ id: 20 }]);
  });

  it('leaves the main thread free while a query runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await db.query('SELECT pg_sleep(0.3)');
    } finally {
      clearInterval(timer);
    }
    // in-process, the WebAssembly PostgreSQL would hold the event loop for all 300 ms
    expect(ticks).toBeGreaterThan(10);
  });

  it('fails at once after it is closed', async () => {
    const other = new PGliteThread('memory://');
    await other.waitReady;
    await other.close();
    await expect(other.query('SELECT 1')).rejects.toThrow(/embedded database stopped/);
  });
});
