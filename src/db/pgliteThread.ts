// The embedded database, run on a thread of its own (./pgliteWorker.ts), behind the part of
// PGlite's interface that Prisma's PGlite adapter and ./client.ts use: query, exec,
// transaction, close. Start-up is the reason: PGlite's start (its WebAssembly PostgreSQL
// opening the data directory) costs as much CPU as loading the app's modules, and on its own
// thread the two run side by side. Every query is one message each way; a transaction holds
// the client's lock from BEGIN to COMMIT, as PGlite's own transaction() does, so nothing else
// runs inside it. Errors from PostgreSQL arrive as PGlite's DatabaseError, as the adapter
// expects; parsers (functions, which cannot cross threads) run here on the values'
// PostgreSQL text.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadError, ThreadRequest, ThreadResponse, ThreadResult } from './pgliteProtocol.js';

type Parser = (value: string, typeId: number) => unknown;
export interface ThreadQueryOptions {
  rowMode?: 'array' | 'object';
  parsers?: Record<number, Parser>;
}
export interface ThreadTransaction {
  query<T>(sql: string, params?: unknown[], options?: ThreadQueryOptions): Promise<ThreadResult<T>>;
  exec(sql: string): Promise<ThreadResult<unknown>[]>;
  rollback(): Promise<void>;
  readonly closed: boolean;
}

type Pending = { resolve(result: ThreadResponse & { result: unknown }): void; reject(err: Error): void };
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** The worker's entry: compiled JavaScript beside this file, or the TypeScript source through tsx (tests, `npm run dev`). */
function startWorker(dataDir: string): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./pgliteWorker.js', self), { workerData: { dataDir } });
  const entry = new URL('./pgliteWorker.ts', self).href;
  // require.resolve finds the CommonJS build; its ES module build sits beside it
  const tsx = pathToFileURL(createRequire(self).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: { dataDir } });
}

export class PGliteThread {
  readonly waitReady: Promise<void>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #lock: Promise<unknown> = Promise.resolve();
  #stopped: Error | undefined;
  #closed = false;
  readonly #rawTypes = new WeakMap<object, number[]>();

  constructor(dataDir: string) {
    this.#worker = startWorker(dataDir);
    // like an in-process PGlite, an idle database does not keep the process alive
    this.#worker.unref();
    let opened!: Pending;
    this.waitReady = new Promise<void>((resolve, reject) => {
      opened = { resolve: () => resolve(), reject };
    });
    this.waitReady.catch(() => {}); // reported by whoever awaits it
    this.#pending.set(0, opened);
    this.#worker.ref(); // until it has opened
    this.#worker.on('message', (response: ThreadResponse) => this.#answer(response));
    this.#worker.on('error', (err) => this.#stop(new Error(`the embedded database stopped: ${err.message}`)));
    this.#worker.on('exit', (code) => this.#stop(new Error(`the embedded database stopped (its thread exited with code ${code})`)));
  }

  query<T>(sql: string, params: unknown[] = [], options?: ThreadQueryOptions): Promise<ThreadResult<T>> {
    return this.#exclusive(() => this.#query<T>(sql, params, options));
  }

  exec(sql: string): Promise<ThreadResult<unknown>[]> {
    return this.#exclusive(() => this.#exec(sql));
  }

  /** Runs fn inside BEGIN … COMMIT (ROLLBACK when it throws or calls tx.rollback()). */
  transaction<T>(fn: (tx: ThreadTransaction) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      await this.#exec('BEGIN');
      let closed = false;
      let rolledBack: Promise<unknown> | undefined;
      const open = () => {
        if (closed) throw new Error('Transaction is closed');
      };
      const tx: ThreadTransaction = {
        query: async (sql, params, options) => (open(), this.#query(sql, params ?? [], options)),
        exec: async (sql) => (open(), this.#exec(sql)),
        rollback: async () => {
          open();
          closed = true; // at once: the adapter lets its callback return before this resolves
          await (rolledBack = this.#exec('ROLLBACK'));
        },
        get closed() {
          return closed;
        },
      };
      try {
        const result = await fn(tx);
        if (rolledBack) await rolledBack;
        if (!closed) {
          closed = true;
          await this.#exec('COMMIT');
        }
        return result;
      } catch (err) {
        if (rolledBack) await rolledBack.catch(() => {});
        else if (!closed) await this.#exec('ROLLBACK').catch(() => {});
        closed = true;
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#stopped) await this.#exclusive(() => this.#send({ op: 'close' })).catch(() => {});
    await this.#worker.terminate();
    this.#stop(new Error('the embedded database stopped (closed)'));
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  async #query<T>(sql: string, params: unknown[], options?: ThreadQueryOptions): Promise<ThreadResult<T>> {
    const parsers = options?.parsers;
    const rawTypes = parsers ? this.#rawTypesOf(parsers) : [];
    const result = (await this.#send({ op: 'query', sql, params, rowMode: options?.rowMode, rawTypes })) as ThreadResult<T>;
    if (parsers && rawTypes.length > 0) parseRaw(result, parsers, options?.rowMode === 'array');
    return result;
  }

  async #exec(sql: string): Promise<ThreadResult<unknown>[]> {
    return (await this.#send({ op: 'exec', sql })) as ThreadResult<unknown>[];
  }

  #rawTypesOf(parsers: Record<number, Parser>): number[] {
    let types = this.#rawTypes.get(parsers);
    if (!types) this.#rawTypes.set(parsers, (types = Object.keys(parsers).map(Number)));
    return types;
  }

  #send(request: DistributiveOmit<ThreadRequest, 'id'>): Promise<unknown> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve: (response) => resolve(response.result), reject });
      this.#worker.postMessage({ ...request, id });
    });
  }

  #answer(response: ThreadResponse): void {
    const pending = this.#pending.get(response.id);
    if (!pending) return;
    this.#pending.delete(response.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if ('error' in response) void toError(response.error).then(pending.reject);
    else pending.resolve(response);
  }

  #stop(err: Error): void {
    this.#stopped ??= err;
    for (const pending of this.#pending.values()) pending.reject(this.#stopped);
    this.#pending.clear();
  }
}

function parseRaw(result: ThreadResult, parsers: Record<number, Parser>, arrayRows: boolean): void {
  const columns = result.fields.flatMap((field, index) => {
    const parse = parsers[field.dataTypeID];
    return parse ? [{ key: arrayRows ? index : field.name, parse, type: field.dataTypeID }] : [];
  });
  if (columns.length === 0) return;
  for (const row of result.rows as Record<string | number, unknown>[]) {
    for (const { key, parse, type } of columns) {
      const value = row[key];
      if (value !== null) row[key] = parse(value as string, type);
    }
  }
}

/** PostgreSQL's errors become PGlite's DatabaseError again, with every field they carried. */
async function toError(e: ThreadError): Promise<Error> {
  if (!e.database) return Object.assign(new Error(e.message), { name: e.name });
  const { messages } = await import('@electric-sql/pglite');
  const { length, ...fields } = e.fields;
  return Object.assign(new messages.DatabaseError(e.message, Number(length ?? 0), 'error'), fields);
}
