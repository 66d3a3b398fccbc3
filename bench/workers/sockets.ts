// The client side of the subscriptions: a minimal graphql-transport-ws client (the protocol
// graphql-ws speaks) and a raw client of the relay yardstick, both on `ws`, both recognizing
// deliveries by the marker in the bytes (see deliveries.ts), so both cost the client the same.
import WebSocket from 'ws';
import { errorText, pool, wallNow } from '../lib/util.js';
import { type Deliveries, MARKER } from './deliveries.js';

export interface SubSpec {
  /** graphql-ws: the document and variables */
  query?: string;
  variables?: Record<string, unknown>;
  /** relay: the channel name */
  channel?: string;
}

export interface ConnSpec {
  url: string;
  token?: string;
  subs: SubSpec[];
}

export interface ConnectArgs {
  kind: 'api' | 'relay';
  conns: ConnSpec[];
  /** sockets being opened at once */
  concurrency: number;
  timeoutMs: number;
}

export interface ConnectResult {
  opened: number;
  failed: number;
  firstError: string;
  /** indexes (in args.conns) of the connections that failed */
  failedIdx: number[];
  subscriptions: number;
  /** wall time the first subscribe frame was written, and the last */
  firstSubscribeAt: number;
  lastSubscribeAt: number;
  elapsedMs: number;
}

interface Conn {
  ws: WebSocket;
  base: number;
  open: boolean;
}

const ID_PREFIX = Buffer.from('{"id":"');
const QUOTE = 0x22;

export class Sockets {
  private conns: Conn[] = [];
  errors = 0;
  firstError = '';
  completed = 0;
  unexpectedCloses = 0;
  readonly closeCodes = new Map<number, number>();
  private closing = false;

  constructor(private readonly deliveries: Deliveries) {}

  get openCount(): number {
    return this.conns.filter((c) => c.open).length;
  }

  private noteError(text: string) {
    this.errors++;
    if (!this.firstError) this.firstError = text.slice(0, 300);
  }

  async connect(args: ConnectArgs): Promise<ConnectResult> {
    this.closing = false;
    const started = wallNow();
    let opened = 0;
    let failed = 0;
    let firstError = '';
    const failedIdx: number[] = [];
    let subscriptions = 0;
    let firstSubscribeAt = Number.POSITIVE_INFINITY;
    let lastSubscribeAt = 0;
    // subscription slots are numbered before any socket opens
    const bases = args.conns.map((c) => {
      const base = this.deliveries.size;
      this.deliveries.size += c.subs.length;
      return base;
    });
    await pool(args.conns.length, args.concurrency, async (i) => {
      const spec = args.conns[i]!;
      try {
        const conn = await (args.kind === 'api' ? this.openApi(spec, bases[i]!, args.timeoutMs) : this.openRelay(spec, bases[i]!, args.timeoutMs));
        firstSubscribeAt = Math.min(firstSubscribeAt, wallNow());
        for (let s = 0; s < spec.subs.length; s++) {
          const sub = spec.subs[s]!;
          conn.ws.send(
            args.kind === 'api'
              ? JSON.stringify({ id: String(s), type: 'subscribe', payload: { query: sub.query, variables: sub.variables ?? {} } })
              : JSON.stringify({ subscribe: sub.channel }),
          );
          subscriptions++;
        }
        lastSubscribeAt = Math.max(lastSubscribeAt, wallNow());
        opened++;
      } catch (err) {
        failed++;
        failedIdx.push(i);
        firstError ||= errorText(err);
      }
    });
    return { opened, failed, firstError, failedIdx, subscriptions, firstSubscribeAt, lastSubscribeAt, elapsedMs: wallNow() - started };
  }

  private track(ws: WebSocket, base: number): Conn {
    const conn: Conn = { ws, base, open: true };
    this.conns.push(conn);
    ws.on('close', (code) => {
      conn.open = false;
      this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
      if (!this.closing) this.unexpectedCloses++;
    });
    ws.on('error', (err) => this.noteError(`socket: ${errorText(err)}`));
    return conn;
  }

  private openApi(spec: ConnSpec, base: number, timeoutMs: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(spec.url, 'graphql-transport-ws', { perMessageDeflate: false, skipUTF8Validation: true });
      let acked = false;
      const timer = setTimeout(() => {
        reject(new Error(`no connection_ack within ${timeoutMs} ms`));
        ws.terminate();
      }, timeoutMs);
      ws.once('open', () => {
        ws.send(JSON.stringify({ type: 'connection_init', payload: spec.token ? { authorization: `Bearer ${spec.token}` } : {} }));
      });
      ws.once('close', (code, reason) => {
        if (!acked) {
          clearTimeout(timer);
          reject(new Error(`closed before connection_ack: ${code} ${reason.toString()}`));
        }
      });
      ws.once('error', (err) => {
        if (!acked) {
          clearTimeout(timer);
          reject(err);
        }
      });
      const conn = this.track(ws, base);
      ws.on('message', (data: Buffer) => {
        const at = data.indexOf(MARKER);
        if (at >= 0) {
          let sub = 0;
          if (data.subarray(0, ID_PREFIX.length).equals(ID_PREFIX)) {
            const end = data.indexOf(QUOTE, ID_PREFIX.length);
            sub = Number(data.toString('latin1', ID_PREFIX.length, end));
          } else {
            sub = Number((JSON.parse(data.toString()) as { id?: string }).id);
          }
          this.deliveries.record(conn.base + (Number.isFinite(sub) ? sub : 0), data, at);
          return;
        }
        let msg: { type?: string; id?: string; payload?: unknown };
        try {
          msg = JSON.parse(data.toString()) as typeof msg;
        } catch {
          this.noteError(`unparsable frame: ${data.toString().slice(0, 100)}`);
          return;
        }
        switch (msg.type) {
          case 'connection_ack':
            acked = true;
            clearTimeout(timer);
            resolve(conn);
            break;
          case 'ping':
            ws.send('{"type":"pong"}');
            break;
          case 'pong':
            break;
          case 'complete':
            this.completed++;
            break;
          default:
            this.noteError(`${msg.type}: ${JSON.stringify(msg.payload).slice(0, 200)}`);
        }
      });
    });
  }

  private openRelay(spec: ConnSpec, base: number, timeoutMs: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(spec.url, { perMessageDeflate: false, skipUTF8Validation: true });
      const timer = setTimeout(() => {
        reject(new Error(`relay socket not open within ${timeoutMs} ms`));
        ws.terminate();
      }, timeoutMs);
      const conn = this.track(ws, base);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(conn);
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.on('message', (data: Buffer) => {
        const at = data.indexOf(MARKER);
        if (at >= 0) this.deliveries.record(conn.base, data, at);
      });
    });
  }

  /** Closes every socket (waits up to 5 s for the close handshakes). */
  async closeAll(): Promise<void> {
    this.closing = true;
    const pending = this.conns.filter((c) => c.open);
    await Promise.race([
      Promise.all(
        pending.map(
          (c) =>
            new Promise<void>((resolve) => {
              c.ws.once('close', () => resolve());
              c.ws.close(1000);
            }),
        ),
      ),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    for (const c of this.conns) if (c.open) c.ws.terminate();
    this.conns = [];
    this.deliveries.size = 0;
    this.deliveries.reset();
    this.errors = 0;
    this.firstError = '';
    this.completed = 0;
    this.unexpectedCloses = 0;
    this.closeCodes.clear();
  }
}
