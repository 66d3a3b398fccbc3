// Slow senders cannot hold connections: headers a byte at a time (slowloris) and bodies
// trickled as slowly are cut within seconds, while everyone else is served.
import { type Socket, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';

const HEADERS_TIMEOUT_MS = 1000;
const BODY_TIMEOUT_MS = 1000;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    env: { HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), HTTP_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) },
  });
});
afterAll(() => server?.stop());

interface Slow {
  socket: Socket;
  /** resolves when the server closed the connection: after how long, and what it answered */
  closed: Promise<{ afterMs: number; received: string }>;
  stop(): void;
}

/** A connection that sends `head` at once, then one byte of `drip` every `everyMs`. */
function slowSender(head: string, drip: string, everyMs: number): Slow {
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  const opened = Date.now();
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  // queued now, so it goes first however long connecting takes; the drip follows it
  if (head) socket.write(head);
  let i = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(drip[i++ % drip.length]!);
  }, everyMs);
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) => {
    socket.once('close', () => {
      clearInterval(timer);
      resolve({ afterMs: Date.now() - opened, received });
    });
  });
  return { socket, closed, stop: () => (clearInterval(timer), socket.destroy()) };
}

describe('slowloris', () => {
  it('closes 100 connections that never finish their headers within seconds, and serves others meanwhile', async () => {
    const slow = Array.from({ length: 100 }, () => slowSender('GET /graphql HTTP/1.1\r\nHost: x\r\n', 'X-a: b\r\n', 100));
    try {
      // the service answers while they hang on
      const res = await fetch(`${server.url}/health/live`);
      expect(res.status).toBe(200);
      const results = await Promise.all(slow.map((s) => s.closed));
      for (const { afterMs, received } of results) {
        // headersTimeout, checked every HTTP_HEADERS_TIMEOUT_MS / 4
        expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS * 5);
        expect(received === '' || received.startsWith('HTTP/1.1 408'), received.slice(0, 80)).toBe(true);
      }
    } finally {
      for (const s of slow) s.stop();
    }
  });

  it('a connection that sends nothing at all is closed too', async () => {
    const idle = slowSender('', ' ', 3_600_000);
    const { afterMs } = await idle.closed;
    expect(afterMs).toBeLessThan(HEADERS_TIMEOUT_MS * 5);
  });
});

describe('a body trickled byte by byte', () => {
  it('is cut with 408 within HTTP_BODY_TIMEOUT_MS of its headers', async () => {
    const body = JSON.stringify({ query: '{ __typename }' }).padEnd(5000, ' ');
    const head = `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const slow = slowSender(head, body, 100);
    try {
      const { afterMs, received } = await slow.closed;
      expect(received).toMatch(/^HTTP\/1\.1 408 /);
      expect(received).toContain('"code":"BAD_REQUEST"');
      expect(afterMs).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 50);
      expect(afterMs).toBeLessThan(BODY_TIMEOUT_MS * 5);
    } finally {
      slow.stop();
    }
  });

  it('a body that arrives in time is answered', async () => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('the defaults', () => {
  it('end a slowloris connection within about 11 s (Node alone: 60 s of headers, checked every 30 s)', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const { httpServerOptions } = await import('../../src/http/timeouts.js');
    const config = loadConfig({});
    expect(httpServerOptions(config)).toEqual({
      headersTimeout: 10_000,
      requestTimeout: 300_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1000,
    });
    expect(config.HTTP_BODY_TIMEOUT_MS).toBe(10_000);
  });
});
