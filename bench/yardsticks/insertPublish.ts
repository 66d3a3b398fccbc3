// Yardstick for sending: a hand-written endpoint doing what sendMessage must at least do, one
// INSERT into "Message" and one Redis PUBLISH of the stored row, with no GraphQL, no ORM, no
// authentication and no permission check. Same database, same pool size as the API (10).
//
//   POST /send {"channelId", "authorId", "content"} → the inserted row (database ids)
//   PORT=4200 DATABASE_URL=postgres://… REDIS_URL=redis://… tsx bench/yardsticks/insertPublish.ts
import http from 'node:http';
import { Redis } from 'ioredis';
import pg from 'pg';
import { monotonicFactory } from 'ulid';

const port = Number(process.env.PORT ?? 4200);
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { connectionName: 'bench-insert-publish' });
const db = new pg.Pool({ connectionString: databaseUrl, max: 10 });
db.on('error', () => {});
const ulid = monotonicFactory();

const INSERT = `INSERT INTO "Message" (id, "channelId", "authorId", content, "createdAt")
  VALUES ($1, $2, $3, $4, now())
  RETURNING id, "channelId", "authorId", content, "createdAt"`;

async function handleSend(body: string): Promise<string> {
  const input = JSON.parse(body) as { channelId: string; authorId: string; content: string };
  const { rows } = await db.query(INSERT, [ulid(), input.channelId, input.authorId, input.content]);
  const row = JSON.stringify(rows[0]);
  await redis.publish(`bench:ip:${input.channelId}`, row);
  return row;
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    db.query('SELECT 1').then(
      () => res.writeHead(200).end('ok'),
      () => res.writeHead(503).end('db'),
    );
    return;
  }
  if (req.method !== 'POST' || req.url !== '/send') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    handleSend(Buffer.concat(chunks).toString()).then(
      (row) => res.writeHead(200, { 'content-type': 'application/json' }).end(row),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
});
server.listen(port, '127.0.0.1');

const stop = () => {
  server.close();
  redis.disconnect();
  void db.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
