// Yardstick for fan-out: the least a real-time relay can do. Clients open a WebSocket and send
// {"subscribe": "<channel>"}; POST /publish?channel=<channel> PUBLISHes the body on Redis; every
// relay process subscribed to that channel forwards it to its sockets, framed once and the same
// bytes written to each socket. No GraphQL, no database, no authentication.
//
//   PORT=4100 REDIS_URL=redis://127.0.0.1:6379 RELAY_PREFIX=bench:relay: tsx bench/yardsticks/relay.ts
import http from 'node:http';
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 4100);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.RELAY_PREFIX ?? 'bench:relay:';

const publisher = new Redis(redisUrl, { connectionName: 'bench-relay-pub' });
const subscriber = new Redis(redisUrl, { connectionName: 'bench-relay-sub' });
const channels = new Map<string, Set<WebSocket>>();

subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
  const sockets = channels.get(channel.toString().slice(prefix.length));
  if (!sockets) return;
  const frame = Buffer.concat([Buffer.from('{"type":"next","payload":'), message, Buffer.from('}')]);
  for (const ws of sockets) ws.send(frame, { binary: false });
});

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://relay');
  if (req.method === 'GET' && url.pathname === '/health') {
    res.writeHead(200).end('ok');
    return;
  }
  if (req.method === 'POST' && url.pathname === '/publish') {
    const channel = url.searchParams.get('channel');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!channel) {
        res.writeHead(400).end('channel?');
        return;
      }
      publisher.publish(prefix + channel, Buffer.concat(chunks)).then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
  const mine = new Set<string>();
  ws.on('message', (data: Buffer) => {
    let msg: { subscribe?: string };
    try {
      msg = JSON.parse(data.toString()) as typeof msg;
    } catch {
      return;
    }
    const channel = msg.subscribe;
    if (!channel || mine.has(channel)) return;
    mine.add(channel);
    let sockets = channels.get(channel);
    if (!sockets) {
      sockets = new Set();
      channels.set(channel, sockets);
      void subscriber.subscribe(prefix + channel);
    }
    sockets.add(ws);
    ws.send(JSON.stringify({ type: 'subscribed', channel }));
  });
  ws.on('close', () => {
    for (const channel of mine) {
      const sockets = channels.get(channel);
      sockets?.delete(ws);
      if (sockets && !sockets.size) {
        channels.delete(channel);
        void subscriber.unsubscribe(prefix + channel);
      }
    }
  });
  ws.on('error', () => {});
});

server.listen(port, '127.0.0.1');
const stop = () => {
  wss.close();
  server.close();
  publisher.disconnect();
  subscriber.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
