// What the logs hold: JSON lines naming the request they belong to, and never a token, a
// password or a message's content, even at debug level and when something breaks.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type App, buildApp } from '../../src/server.js';
import { usingPostgres } from '../support/app.js';
import { testRedisKeyPrefix } from '../support/redis.js';
import { createScratchDatabase } from '../support/database.js';
import { type Client, createGuild, send, signIn, signUp } from '../support/client.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});

let app: App;
let dropDatabase: (() => Promise<void>) | undefined;
let graphqlUrl: string;

beforeAll(async () => {
  let databaseUrl: string | undefined;
  if (usingPostgres) {
    const db = await createScratchDatabase(process.env.TEST_DATABASE_URL!);
    databaseUrl = db.url;
    dropDatabase = () => db.drop();
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    PGLITE_DATA_DIR: ':memory:',
    ARGON2_MEMORY_KIB: '1024',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL, REDIS_KEY_PREFIX: testRedisKeyPrefix } : {}),
  });
  app = await buildApp({ config, log: createLogger(config.LOG_LEVEL, sink) });
  await app.start(0, '127.0.0.1');
  graphqlUrl = `${app.url}/graphql`;
});
afterAll(async () => {
  await app?.stop();
  await dropDatabase?.();
});

const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, any>);

describe('request ids', () => {
  it("answers the proxy's X-Request-Id, or a fresh one when it sent none or a strange one", async () => {
    const given = await fetch(`${app.url}/health/live`, { headers: { 'x-request-id': 'lb-4f2a:77' } });
    expect(given.headers.get('x-request-id')).toBe('lb-4f2a:77');
    const none = await fetch(`${app.url}/health/live`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const strange = await fetch(`${app.url}/health/live`, { headers: { 'x-request-id': `a b ${'x'.repeat(200)}` } });
    expect(strange.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('puts the id on every line logged while the request is handled', async () => {
    const user = await signUp(graphqlUrl);
    const { generalId } = await createGuild(user, 'logs');
    await app.db.prisma.$executeRawUnsafe('ALTER TABLE "Message" RENAME TO "Message_gone"');
    try {
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}`, 'x-request-id': 'req-broken-1' },
        body: JSON.stringify({ query: 'query($id: ID!) { channel(id: $id) { messages { totalCount } } }', variables: { id: generalId } }),
      });
      expect(((await res.json()) as any).errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await app.db.prisma.$executeRawUnsafe('ALTER TABLE "Message_gone" RENAME TO "Message"');
    }
    const logged = parsed().filter((l) => l.msg === 'unexpected error');
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.every((l) => l.reqId === 'req-broken-1' && l.level === 50 && l.service === 'chat-backend')).toBe(true);
    expect(logged[0]!.err).toBeDefined();
  });
});

describe('never logged', () => {
  let user: Client;
  const secretContent = `the launch code is ${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    user = await signUp(graphqlUrl, `logger${Date.now().toString(36)}`);
    const again = await signIn(graphqlUrl, user.username!);
    const { generalId } = await createGuild(again, 'secrets');
    await send(again, generalId, secretContent);
    // a failed sign-in, a bad token, a body that is not JSON with a password in it
    await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation($i: LoginInput!) { login(input: $i) { accessToken } }', variables: { i: { login: user.username, password: 'wrong-password-123' } } }),
    });
    await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}x` }, body: '{"query":"{ viewer { id } }"}' });
    await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"mutation { login(input: {login: \\"a\\", password: \\"truncated-secret-9' });
    user.token = again.token;
  });

  it('no token, password or message content, at debug level', () => {
    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of [user.token!, user.refreshToken!, 'correct horse battery', 'wrong-password-123', 'truncated-secret-9', secretContent]) {
      expect(all).not.toContain(secret);
    }
  });

  it('a Prisma error is logged by its reason, not by the arguments it renders', () => {
    const log = createLogger('info', sink);
    class PrismaClientValidationError extends Error {}
    const err = new PrismaClientValidationError(
      'Invalid `prisma.message.create()` invocation:\n\n{\n  data: {\n    content: "my diary entry",\n    authorId: 1\n  }\n}\n\nArgument `channelId` is missing.',
    );
    log.error({ err }, 'unexpected error');
    const line = parsed().at(-1)!;
    expect(line.err).toMatchObject({ type: 'PrismaClientValidationError', message: 'Argument `channelId` is missing.' });
    expect(JSON.stringify(line)).not.toContain('my diary entry');
  });

  it('redacts secrets in logged objects', () => {
    createLogger('info', sink).info({ headers: { authorization: 'Bearer abc.def' }, input: { password: 'p4ss' }, variables: { a: 1 } }, 'x');
    const line = parsed().at(-1)!;
    expect(line.headers.authorization).toBe('[redacted]');
    expect(line.input.password).toBe('[redacted]');
    expect(line.variables).toBe('[redacted]');
  });
});
