// The graphql-transport-ws server as a client sees it at the protocol level: close codes for
// refused tokens and broken clients, the limits that protect an instance, and sessions that
// end their sockets at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createGuild, signUp } from '../support/client.js';

let server: TestServer;
let user: Client;
let channelId: string;

const LIMITS = {
  WS_MAX_MESSAGE_BYTES: '4096',
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3',
  WS_MAX_SUBSCRIPTIONS_PER_USER: '5',
  WS_MAX_CONNECTIONS_PER_USER: '3',
};

beforeAll(async () => {
  server = await startTestServer({ env: LIMITS });
  user = await signUp(server.graphqlUrl);
  ({ generalId: channelId } = await createGuild(user, 'Sockets'));
});
afterAll(() => server?.stop());

interface Peer {
  ws: WebSocket;
  /** the next message the server sends, parsed */
  next(timeoutMs?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
}

function connect(protocol = 'graphql-transport-ws', url = server.wsUrl): Promise<Peer> {
  const ws = new WebSocket(url, protocol);
  const queue: any[] = [];
  const waiters: ((m: any) => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        closed,
        send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
        next: (timeoutMs = 5_000) =>
          queue.length
            ? Promise.resolve(queue.shift())
            : new Promise((res, rej) => {
                const timer = setTimeout(() => rej(new Error('no message')), timeoutMs);
                waiters.push((m) => {
                  clearTimeout(timer);
                  res(m);
                });
              }),
      }),
    );
  });
}

async function signedIn(token = user.token): Promise<Peer> {
  const peer = await connect();
  peer.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  expect(await peer.next()).toEqual({ type: 'connection_ack' });
  return peer;
}

const SUBSCRIBE = (id: string) => ({
  id,
  type: 'subscribe',
  payload: { query: `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, variables: { c: channelId } },
});

describe('connection_init', () => {
  it('closes with 4403 for a refused token, so the client refreshes instead of working anonymously', async () => {
    for (const token of ['not-a-jwt', `${user.token!.slice(0, -4)}AAAA`]) {
      const peer = await connect();
      peer.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
      expect((await peer.closed).code).toBe(4403);
    }
  });

  it('acknowledges a connection without a token as anonymous, whose subscriptions are refused', async () => {
    const peer = await connect();
    peer.send({ type: 'connection_init' });
    expect(await peer.next()).toEqual({ type: 'connection_ack' });
    peer.send(SUBSCRIBE('1'));
    const answer = await peer.next();
    expect(answer).toMatchObject({ id: '1', type: 'next' });
    expect(answer.payload.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await peer.next()).toEqual({ id: '1', type: 'complete' });
    peer.ws.close();
  });

  it('refuses another subprotocol, a subscribe before the ack, a second init and garbage', async () => {
    // subscriptions-transport-ws: no subprotocol is agreed, which its client reports
    await expect(connect('graphql-ws')).rejects.toThrow(/subprotocol/i);

    const early = await connect();
    early.send(SUBSCRIBE('1'));
    expect((await early.closed).code).toBe(4401);

    const twice = await signedIn();
    twice.send({ type: 'connection_init' });
    expect((await twice.closed).code).toBe(4429);

    const garbage = await signedIn();
    garbage.send('{"type":"nonsense"');
    expect((await garbage.closed).code).toBe(4400);
  });
});

describe('subscriptions on a socket', () => {
  it('closes the socket with 4409 when an id is reused while its subscription runs', async () => {
    const peer = await signedIn();
    peer.send(SUBSCRIBE('same'));
    peer.send(SUBSCRIBE('same'));
    expect((await peer.closed).code).toBe(4409);
  });

  it('answers a query sent over the socket, then completes it', async () => {
    const peer = await signedIn();
    peer.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { username } }' } });
    expect(await peer.next()).toEqual({ id: 'q', type: 'next', payload: { data: { viewer: { username: user.username } } } });
    expect(await peer.next()).toEqual({ id: 'q', type: 'complete' });
    peer.ws.close();
  });

  it('reports a document that does not validate as an error of that operation only', async () => {
    const peer = await signedIn();
    peer.send({ id: 'bad', type: 'subscribe', payload: { query: 'subscription { nope }' } });
    const answer = await peer.next();
    expect(answer).toMatchObject({ id: 'bad', type: 'error' });
    expect(answer.payload[0].message).toMatch(/nope/);
    peer.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { id } }' } });
    expect((await peer.next()).id).toBe('q');
    peer.ws.close();
  });
});

describe('limits', () => {
  it('closes a socket that sends a frame over WS_MAX_MESSAGE_BYTES with 1009', async () => {
    const peer = await signedIn();
    peer.send({ id: 'big', type: 'subscribe', payload: { query: `{ viewer { id } } # ${'x'.repeat(8192)}` } });
    expect((await peer.closed).code).toBe(1009);
  });

  it('refuses operations past the per-socket and per-user limits with FORBIDDEN, and frees them on complete', async () => {
    const first = await signedIn();
    for (const id of ['a', 'b', 'c']) first.send(SUBSCRIBE(id));
    first.send(SUBSCRIBE('d'));
    const refused = await first.next();
    expect(refused).toMatchObject({ id: 'd', type: 'error' });
    expect(refused.payload[0].extensions.code).toBe('FORBIDDEN');

    // the same user on a second socket: 2 more fit under the per-user limit of 5
    const second = await signedIn();
    for (const id of ['e', 'f']) second.send(SUBSCRIBE(id));
    second.send(SUBSCRIBE('g'));
    expect(await second.next()).toMatchObject({ id: 'g', type: 'error' });

    // completing one frees its place
    second.send({ id: 'e', type: 'complete' });
    const deadline = Date.now() + 5_000;
    let answer: any;
    do {
      second.send(SUBSCRIBE(`h${Date.now()}`));
      answer = await second.next(1_000).catch(() => null);
    } while (answer?.type === 'error' && Date.now() < deadline);
    expect(answer).toBeNull(); // accepted: a live subscription answers nothing until a message
    first.ws.close();
    second.ws.close();
    await Promise.all([first.closed, second.closed]);
  });

  it('closes a user connection past WS_MAX_CONNECTIONS_PER_USER with 4429', async () => {
    const other = await signUp(server.graphqlUrl);
    const open = [await signedIn(other.token), await signedIn(other.token), await signedIn(other.token)];
    const extra = await connect();
    extra.send({ type: 'connection_init', payload: { authorization: `Bearer ${other.token}` } });
    expect((await extra.closed).code).toBe(4429);
    for (const peer of open) peer.ws.close();
  });

  it('answers HTTP 429 to handshakes past the per-address rate', async () => {
    const limited = await startTestServer({ env: { WS_CONNECTIONS_PER_MINUTE_PER_ADDRESS: '2' } });
    try {
      const peers = [await connect(undefined, limited.wsUrl), await connect(undefined, limited.wsUrl)];
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(limited.wsUrl, 'graphql-transport-ws');
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
      expect(status).toBe(429);
      for (const peer of peers) peer.ws.close();
    } finally {
      await limited.stop();
    }
  });
});

describe('sessions', () => {
  it('closes every socket of a session with 4403 when it signs out', async () => {
    const person = await signUp(server.graphqlUrl);
    const peer = await signedIn(person.token);
    await person.ok(`mutation($t: String!) { logout(refreshToken: $t) }`, { t: person.refreshToken });
    expect((await peer.closed).code).toBe(4403);
    const again = await connect();
    again.send({ type: 'connection_init', payload: { authorization: `Bearer ${person.token}` } });
    expect((await again.closed).code).toBe(4403);
  });
});

describe('heartbeat', () => {
  const HEARTBEAT_MS = 120;
  let beating: TestServer;
  beforeAll(async () => {
    beating = await startTestServer({ env: { WS_HEARTBEAT_MS: String(HEARTBEAT_MS) } });
  });
  afterAll(() => beating?.stop());

  const pinged = (ws: WebSocket, times: number) =>
    new Promise<number[]>((resolve) => {
      const at: number[] = [];
      ws.on('ping', () => {
        at.push(Date.now());
        if (at.length === times) resolve(at);
      });
    });

  it('keeps a peer that answers its pings, and drops one that does not', async () => {
    const answering = await connect(undefined, beating.wsUrl);
    const silent = new WebSocket(beating.wsUrl, 'graphql-transport-ws', { autoPong: false });
    const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
    const silentPings = pinged(silent, 1);
    await pinged(answering.ws, 4);
    await silentPings;
    // pinged, did not answer, and was cut at its next turn (a terminate: no close frame)
    expect(await silentClosed).toBe(1006);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    answering.ws.close();
  });

  it('pings sockets that connected together at their own turns, not in one burst', async () => {
    const peers = await Promise.all(
      Array.from({ length: 40 }, () => connect(undefined, beating.wsUrl).then((peer) => ({ peer, openedAt: Date.now(), firstPing: pinged(peer.ws, 1) }))),
    );
    // how long after its own opening each socket was first pinged: spread over the interval,
    // not all at the first tick (which would keep them in one burst at every later turn too)
    const delays = await Promise.all(peers.map(async (p) => (await p.firstPing)[0]! - p.openedAt));
    const late = delays.filter((d) => d > HEARTBEAT_MS / 3).length;
    expect(late).toBeGreaterThan(peers.length / 4);
    for (const p of peers) p.peer.ws.close();
  });
});
