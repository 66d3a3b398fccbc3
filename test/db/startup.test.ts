// The production start path, as `npm start` runs it (package.json's "start": compiled
// JavaScript from dist/, rebuilt when stale, third-party code bundled), on a fresh embedded
// data directory and again on the same directory: it becomes ready, serves every transport
// (GraphQL over HTTP and WebSocket, uploads, GraphiQL, metrics), stops cleanly on SIGTERM and
// keeps its data. How fast it starts is the benchmark's business (bench/), not this test's.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localMigrations } from '../../src/db/migrations.js';
import { createGuild, send, signIn, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Server {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | string>;
  output(): string;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** package.json's start script, run as npm runs it (without npm in between). */
async function startCommand(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [command, ...args] = pkg.scripts.start.trim().split(/\s+/);
  expect(command, 'npm start runs compiled JavaScript with node').toBe('node');
  return args;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const proc = spawn(process.execPath, await startCommand(), {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let exitCode: number | string | undefined;
  void exited.then((code) => (exitCode = code));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000; // a stale dist/ is compiled first
  for (;;) {
    if (exitCode !== undefined) throw new Error(`server exited (${exitCode}) before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server not ready within 90 s:\n${output}`);
    }
    const status = await fetch(`${url}/health/ready`).then((r) => r.status, () => 0);
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, url, exited, output: () => output };
}

async function stop(server: Server): Promise<void> {
  server.proc.kill('SIGTERM');
  const code = await server.exited;
  expect(code, server.output()).toBe(0);
}

describe('npm start on the embedded database', () => {
  let tmp: string;
  let env: Record<string, string>;
  let username: string;
  let channelId: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'chat-startup-'));
    env = {
      PGLITE_DATA_DIR: path.join(tmp, 'pglite'),
      UPLOAD_DIR: path.join(tmp, 'uploads'),
      JWT_SECRET: 'startup-test-secret-startup-test-secret',
      METRICS_TOKEN: 'startup-test-metrics-token',
      ARGON2_MEMORY_KIB: '1024',
    };
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('starts on a fresh data directory, serves every transport, and stops on SIGTERM', async () => {
    const server = await startServer(env);
    try {
      const graphqlUrl = `${server.url}/graphql`;
      const ada = await signUp(graphqlUrl);
      username = ada.username!;
      ({ generalId: channelId } = await createGuild(ada, 'Cold start'));

      // a subscription over graphql-ws sees a message sent over HTTP
      const ws = wsClient(graphqlUrl.replace(/^http/, 'ws'), ada.token);
      try {
        const added = subscribe<{ messageAdded: { content: string; author: { username: string } } }>(
          ws,
          'subscription ($c: ID!) { messageAdded(channelId: $c) { content author { username } } }',
          { c: channelId },
        );
        // the subscription is live once an event sent after it arrives
        const deadline = Date.now() + 10_000;
        let event;
        while (!event) {
          await send(ada, channelId, 'first words');
          event = await added.next(500).catch(() => undefined);
          if (!event && Date.now() > deadline) throw new Error('no messageAdded event');
        }
        expect(event.messageAdded).toEqual({ content: 'first words', author: { username } });
        added.close();
      } finally {
        await ws.dispose();
      }

      // an upload is stored and served back
      const form = new FormData();
      form.append('file', new Blob(['hello from dist'], { type: 'text/plain' }), 'hello.txt');
      const upload = await fetch(`${server.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${ada.token}` }, body: form });
      expect(upload.status).toBe(200);
      const { attachments } = (await upload.json()) as { attachments: { url: string }[] };
      const file = await fetch(new URL(attachments[0]!.url, server.url));
      expect(await file.text()).toBe('hello from dist');

      // GraphiQL, from the installed packages, and the metrics
      const page = await fetch(graphqlUrl, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('YogaGraphiQL');
      const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${env.METRICS_TOKEN}` } });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('graphql_yoga_http_duration');
    } finally {
      await stop(server);
    }
  });

  it('recorded every migration as `prisma migrate deploy` does', async () => {
    const db = new PGlite(env.PGLITE_DATA_DIR);
    try {
      const { rows } = await db.query<{ migration_name: string; checksum: string; finished: boolean; rolled_back: boolean }>(
        `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
           FROM _prisma_migrations ORDER BY migration_name`,
      );
      const local = await localMigrations();
      expect(rows.map((r) => [r.migration_name, r.checksum, r.finished, r.rolled_back])).toEqual(
        local.map((m) => [m.name, m.checksum, true, false]),
      );
    } finally {
      await db.close();
    }
  });

  it('starts again on the same directory and finds what it stored', async () => {
    const server = await startServer(env);
    try {
      const ada = await signIn(`${server.url}/graphql`, username);
      const data = await ada.ok<{ channel: { messages: { edges: { node: { content: string } }[] } } }>(
        'query ($c: ID!) { channel(id: $c) { messages(first: 10) { edges { node { content } } } } }',
        { c: channelId },
      );
      expect(data.channel.messages.edges.map((e) => e.node.content)).toContain('first words');
    } finally {
      await stop(server);
    }
  });
});
