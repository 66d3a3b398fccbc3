// Forcing a full garbage collection in another Node process through its inspector (started
// with --inspect=127.0.0.1:<port>): memory is then compared without the garbage that happened
// to be uncollected at the moment of sampling. Used on the API and the relay alike.
import WebSocket from 'ws';
import { withTimeout } from './util.js';

/** Forces a full GC; resolves to the JS heap's used bytes after it. */
/** the JS heap's total (reserved) size at the last collectGarbage */
export let lastTotal = Number.NaN;

export async function collectGarbage(inspectPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${inspectPort}/json/list`);
  const targets = (await res.json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectPort}`);
  const ws = new WebSocket(url);
  try {
    return await withTimeout(
      'inspector collectGarbage',
      30_000,
      new Promise<number>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
        ws.on('message', (data: Buffer) => {
          const msg = JSON.parse(data.toString()) as { id?: number; error?: { message: string }; result?: { usedSize?: number; totalSize?: number } };
          if (msg.error) reject(new Error(msg.error.message));
          else if (msg.id === 1) ws.send(JSON.stringify({ id: 2, method: 'Runtime.getHeapUsage' }));
          else if (msg.id === 2) {
            lastTotal = msg.result?.totalSize ?? Number.NaN;
            resolve(msg.result?.usedSize ?? Number.NaN);
          }
        });
      }),
    );
  } finally {
    ws.close();
  }
}

/** Writes a heap snapshot of the process (Chrome DevTools' .heapsnapshot format) to `file`. */
export async function takeHeapSnapshot(inspectPort: number, file: string): Promise<void> {
  const { createWriteStream } = await import('node:fs');
  const res = await fetch(`http://127.0.0.1:${inspectPort}/json/list`);
  const targets = (await res.json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectPort}`);
  const ws = new WebSocket(url, { maxPayload: 1 << 30 });
  const out = createWriteStream(file);
  try {
    await withTimeout(
      'inspector takeHeapSnapshot',
      120_000,
      new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false } })));
        ws.on('message', (data: Buffer) => {
          const msg = JSON.parse(data.toString()) as { id?: number; method?: string; params?: { chunk?: string }; error?: { message: string } };
          if (msg.error) reject(new Error(msg.error.message));
          else if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') out.write(msg.params?.chunk ?? '');
          else if (msg.id === 1) resolve();
        });
      }),
    );
  } finally {
    ws.close();
    await new Promise((r) => out.end(r));
  }
}
