// What clients see while PostgreSQL is away, through a TCP proxy this file owns and severs:
// SERVICE_UNAVAILABLE with retryAfterMs within 2 s, readiness 503 at once, and recovery when
// the database is reachable again. Needs a real PostgreSQL server (TEST_DATABASE_URL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, createTestDatabase, startTestServer } from '../support/app.js';
import { type Client, createGuild, signUp } from '../support/client.js';
import { gql, severableProxy, within } from '../support/faults.js';

describe('with PostgreSQL away', () => {
  let proxy: Awaited<ReturnType<typeof severableProxy>>;
  let server: TestServer;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let user: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await severableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    server = await startTestServer({ databaseUrl: url.toString() });
    user = await signUp(server.graphqlUrl);
    await createGuild(user, 'Before');
  });
  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it('answers SERVICE_UNAVAILABLE with retryAfterMs within 2 s, 503 when asked if ready, and recovers', async () => {
    proxy.sever();
    const ready = await fetch(`${server.url}/health/ready`, { signal: within(1_000) });
    expect(ready.status).toBe(503);
    const answer = await gql(server.graphqlUrl, user.token, `mutation { createGuild(input: { name: "During" }) { id } }`);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterMs: expect.any(Number) });
    expect(JSON.stringify(answer)).not.toMatch(/127\.0\.0\.1|ECONN|prisma/i);

    proxy.restore();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const again = await gql(server.graphqlUrl, user.token, `mutation { createGuild(input: { name: "After" }) { id name } }`);
      if (!again.errors) {
        expect(again.data.createGuild.name).toBe('After');
        break;
      }
      expect(again.errors[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      if (Date.now() > deadline) throw new Error('never recovered');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});

