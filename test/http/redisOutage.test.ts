// What clients see while Redis is away, against a redis-server this file owns and kills:
// requests fail fast with a retryable answer (or succeed, when what they need is there),
// readiness says 503 at once, and nothing sent meanwhile is missing once Redis is back.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, invite, localId, send, signUp } from '../support/client.js';
import { freePort, gql, privateRedis, within } from '../support/faults.js';
import { subscribe, wsClient } from '../support/ws.js';

if (spawnSync('redis-server', ['--version']).status !== 0) {
  throw new Error('redis-server is not installed: this test owns a private one (apt-get install redis-server)');
}

describe('with Redis away', () => {
  let redis: ReturnType<typeof privateRedis>;
  let server: TestServer;
  let owner: Client;
  let member: Client;
  let channelId: string;

  beforeAll(async () => {
    const port = await freePort();
    redis = privateRedis(port);
    await redis.start();
    server = await startTestServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}`, MESSAGE_RATE_LIMIT: '6' } });
    owner = await signUp(server.graphqlUrl);
    member = await signUp(server.graphqlUrl);
    let guildId: string;
    ({ guildId, generalId: channelId } = await createGuild(owner, 'Outage'));
    await invite(owner, guildId, member);
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.kill();
  });

  it('fails fast or succeeds, says 503 when asked if ready, and delivers every message once Redis is back', async () => {
    const ws = wsClient(server.wsUrl, member.token);
    const sub = subscribe<{ messageAdded: any }>(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id content } }`, { c: channelId });
    await waitForListener(server, 'messageAdded', localId(channelId));
    const before = await send(owner, channelId, 'before the outage');
    expect((await sub.next()).messageAdded.id).toBe(before);

    await redis.kill();
    const ready = await fetch(`${server.url}/health/ready`, { signal: within(1_000) });
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks.redis).toBe('unavailable');

    // sending needs the database, not Redis: stored, acknowledged, and delivered later
    const during: string[] = [];
    for (const content of ['during 1', 'during 2']) {
      const answer = await gql(server.graphqlUrl, owner.token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, {
        input: { channelId, content },
      });
      expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
      during.push(answer.data.sendMessage.id);
    }
    // typing lives in Redis only: a retryable refusal, at once
    const typing = await gql(server.graphqlUrl, owner.token, `mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId });
    expect(typing.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterMs: expect.any(Number) });

    await redis.start();
    // the open subscription catches up by itself, in order, nothing twice
    expect((await sub.next(15_000)).messageAdded.id).toBe(during[0]);
    expect((await sub.next(5_000)).messageAdded.id).toBe(during[1]);
    // and goes on live; the sender is not locked out by what it did during the outage
    const deadline = Date.now() + 15_000;
    while ((await fetch(`${server.url}/health/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('never ready again');
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = [await send(owner, channelId, 'after 1'), await send(owner, channelId, 'after 2')];
    expect((await sub.next()).messageAdded.id).toBe(after[0]);
    expect((await sub.next()).messageAdded.id).toBe(after[1]);
    expect(sub.pending()).toEqual([]);
    sub.close();
    await ws.dispose();
  });
});

