// A TCP proxy in front of PostgreSQL that counts what clients ask of the database, at the wire.
// It parses the frontend protocol (and the backend's ReadyForQuery) and counts:
//
//   request     a simple Query ('Q'), a FunctionCall ('F'), or an extended-protocol batch
//               ending with Sync ('S': Parse/Bind/Describe/Execute … Sync is one request);
//   round trip  a request sent while its connection had no request awaiting ReadyForQuery
//               ('Z'): requests pipelined behind an unanswered one ride on its round trip.
//               Over all connections: two queries on two pooled connections are two round trips.
//
// BEGIN and COMMIT are requests of their own (an interactive transaction of one INSERT costs 3).
// Connection start-up and authentication are not requests; new connections are counted apart.
// Encrypted connections (SSLRequest answered 'S') are passed through and not counted.
import net from 'node:net';
import { wallNow } from './lib/util.js';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

export interface ProxyCounts {
  requests: number;
  roundTrips: number;
  connections: number;
  /** the statements' text (simple queries and Parse messages), in order, cut at 160 characters */
  statements: string[];
}

class Stream {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly onMessage: (type: number, body: Buffer) => void) {}
  push(chunk: Buffer) {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    while (this.pending.length - offset >= 5) {
      const len = this.pending.readInt32BE(offset + 1);
      if (this.pending.length - offset < 1 + len) break;
      this.onMessage(this.pending[offset]!, this.pending.subarray(offset + 5, offset + 1 + len));
      offset += 1 + len;
    }
    this.pending = offset ? Buffer.from(this.pending.subarray(offset)) : this.pending;
  }
}

export class CountingProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  lastActivity = 0;
  private counts: ProxyCounts = { requests: 0, roundTrips: 0, connections: 0, statements: [] };

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  /** The same database URL, through this proxy. */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async start(): Promise<void> {
    this.server = net.createServer((client) => this.handle(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  reset(): void {
    this.counts = { requests: 0, roundTrips: 0, connections: 0, statements: [] };
  }

  snapshot(): ProxyCounts {
    return { ...this.counts, statements: [...this.counts.statements] };
  }

  /** Resolves once no byte has crossed the proxy for quietMs (or after maxMs). */
  async waitQuiet(quietMs: number, maxMs = 5000): Promise<void> {
    const deadline = wallNow() + maxMs;
    while (wallNow() - this.lastActivity < quietMs && wallNow() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(client: net.Socket) {
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    this.counts.connections++;
    let outstanding = 0;
    let opaque = false;
    let startupDone = false;
    let awaitingSslAnswer = false;
    let startupBuf: Buffer = Buffer.alloc(0);

    const frontend = new Stream((type, body) => {
      // 'Q' query, 'S' sync, 'F' function call: each one answered by ReadyForQuery
      if (type === 0x51 || type === 0x53 || type === 0x46) {
        this.counts.requests++;
        if (outstanding === 0) this.counts.roundTrips++;
        outstanding++;
        if (type === 0x51) this.counts.statements.push(body.toString('utf8', 0, Math.min(body.length - 1, 160)));
      } else if (type === 0x50) {
        // Parse: statement name, then the query text (both NUL-terminated)
        const nameEnd = body.indexOf(0);
        const textEnd = body.indexOf(0, nameEnd + 1);
        this.counts.statements.push(body.toString('utf8', nameEnd + 1, Math.min(textEnd, nameEnd + 1 + 160)));
      }
    });
    const backend = new Stream((type) => {
      if (type === 0x5a) outstanding = Math.max(0, outstanding - 1); // 'Z' ReadyForQuery
    });

    client.on('data', (chunk: Buffer) => {
      this.lastActivity = wallNow();
      upstream.write(chunk);
      if (opaque) return;
      if (startupDone) {
        frontend.push(chunk);
        return;
      }
      // untyped start-up packets: length, then a code (SSLRequest, CancelRequest, or the protocol version)
      startupBuf = Buffer.concat([startupBuf, chunk]);
      while (!startupDone && !opaque && startupBuf.length >= 8) {
        const len = startupBuf.readInt32BE(0);
        if (startupBuf.length < len) return;
        const code = startupBuf.readInt32BE(4);
        const rest = startupBuf.subarray(len);
        startupBuf = Buffer.alloc(0);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          awaitingSslAnswer = true;
          startupBuf = Buffer.from(rest);
        } else if (code === CANCEL_REQUEST) {
          opaque = true;
        } else {
          startupDone = true;
          if (rest.length) frontend.push(Buffer.from(rest));
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      this.lastActivity = wallNow();
      client.write(chunk);
      if (opaque) return;
      let data = chunk;
      if (awaitingSslAnswer) {
        awaitingSslAnswer = false;
        if (data[0] !== 0x4e) {
          opaque = true; // 'S' or 'G': encrypted from here on
          return;
        }
        data = data.subarray(1);
        if (!data.length) return;
      }
      backend.push(data);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }
}
