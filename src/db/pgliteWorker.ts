// The embedded database's own thread (started by ./pgliteThread.ts): PGlite, its WebAssembly
// PostgreSQL and every query it runs live here, so that opening the database overlaps the
// loading of the app's modules at start-up, and a slow query never holds up the event loop
// that serves the sockets. Requests arrive in order and are answered in order.
import { mkdir } from 'node:fs/promises';
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite, PGliteOptions, Results } from '@electric-sql/pglite';
import { isFreshDataDir, restoreTemplate, templateTarball } from './template.js';
import { type ThreadError, type ThreadRequest, type ThreadResponse, isInMemory } from './pgliteProtocol.js';

const port = parentPort!;
const { dataDir } = workerData as { dataDir: string };

/** V8's default, in "bytes executed" before a WebAssembly function is compiled again with TurboFan. */
const WASM_TIERING_BUDGET = 1_800_000;

/**
 * Runs `start` (PGlite instantiating its WebAssembly Postgres and starting it) with V8's
 * tier-up budget 500 times the default. PGlite's start runs enough of Postgres to queue
 * TurboFan jobs for hundreds of functions on background threads, and the thread's next
 * event-loop turn waited for them: 100–250 ms of idle start-up, more on a busy machine. With
 * the budget high while the instance is made, a function is optimized once it is hot in use
 * (measured: the same query speed as the default after a few seconds of queries). The budget
 * is per instance, fixed when it is made, so it is set back for any WebAssembly made later
 * (Prisma's query compiler on the main thread). Left alone when node was started with a
 * budget of its own.
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

async function open(): Promise<PGlite> {
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

function serializeError(err: unknown): ThreadError {
  if (!(err instanceof Error)) return { message: String(err), name: 'Error', fields: {} };
  const { queryOptions: _options, params: _params, ...fields } = err as Error & Record<string, unknown>;
  return {
    message: err.message,
    name: err.name,
    // PGlite's DatabaseError: what PostgreSQL's ErrorResponse carried
    database: typeof fields.code === 'string' && typeof fields.severity === 'string',
    fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v === undefined || ['string', 'number', 'boolean'].includes(typeof v))),
  };
}

/** identity parsers for the types the caller parses itself (its functions cannot cross threads) */
const rawParsers = new Map<string, Record<number, (value: string) => string>>();
function parsersFor(types: number[]): Record<number, (value: string) => string> | undefined {
  if (types.length === 0) return undefined;
  const key = types.join(',');
  let parsers = rawParsers.get(key);
  if (!parsers) rawParsers.set(key, (parsers = Object.fromEntries(types.map((t) => [t, (value: string) => value]))));
  return parsers;
}

const strip = (r: Results<unknown>) => ({ rows: r.rows, fields: r.fields, affectedRows: r.affectedRows });

const opening = open();
opening.then(
  () => port.postMessage({ id: 0, result: null } satisfies ThreadResponse),
  (err: unknown) => port.postMessage({ id: 0, error: serializeError(err) } satisfies ThreadResponse),
);

port.on('message', async (req: ThreadRequest) => {
  let response: ThreadResponse;
  try {
    const db = await opening;
    switch (req.op) {
      case 'query': {
        const r = await db.query(req.sql, req.params, { rowMode: req.rowMode, parsers: parsersFor(req.rawTypes) });
        response = { id: req.id, result: strip(r) };
        break;
      }
      case 'exec':
        response = { id: req.id, result: (await db.exec(req.sql)).map(strip) };
        break;
      case 'close':
        await db.close();
        response = { id: req.id, result: null };
        break;
    }
  } catch (err) {
    response = { id: req.id, error: serializeError(err) };
  }
  port.postMessage(response);
});
