// Several instances sharing PostgreSQL and Redis behave as one service. Runs only where
// TEST_DATABASE_URL and TEST_REDIS_URL name real servers (see vitest.config.ts).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, createTestDatabase, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, invite, localId, send, signUp } from '../support/client.js';
import { startInstanceProcess } from '../support/process.js';
import { subscribe, wsClient } from '../support/ws.js';

const JWT_SECRET = 'test-secret-test-secret-test-secret-0123';
const PRESENCE = `subscription($g: ID!) { presence(guildId: $g) { status user { username } } }`;

let a: TestServer;
let b: TestServer;
let owner: Client;
let member: Client;
let guildId: string;
let channelId: string;

beforeAll(async () => {
  a = await startTestServer({ env: { PRESENCE_TTL_MS: '1000' } });
  b = await startTestServer({ databaseUrl: a.databaseUrl, env: { PRESENCE_TTL_MS: '1000' } });
  owner = await signUp(a.graphqlUrl);
  member = await signUp(b.graphqlUrl);
  ({ guildId, generalId: channelId } = await createGuild(owner, 'Cluster'));
  await invite(owner, guildId, member);
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

describe('two instances, one PostgreSQL, one Redis', () => {
  it('delivers to a subscriber on one instance what was sent through the other', async () => {
    const ws = wsClient(a.wsUrl, owner.token);
    const sub = subscribe<{ messageAdded: any }>(
      ws,
      `subscription($c: ID!) { messageAdded(channelId: $c) { id content author { username } } }`,
      { c: channelId },
    );
    await waitForListener(a, 'messageAdded', localId(channelId));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await send(member, channelId, `via b ${i}`));
    const received = [];
    for (let i = 0; i < 5; i++) received.push((await sub.next()).messageAdded);
    expect(received.map((m) => m.id)).toEqual(ids);
    expect(received[0].author.username).toBe(member.username);
    sub.close();
    await ws.dispose();
  });

  it('keeps deployments that share one Redis apart by REDIS_KEY_PREFIX', async () => {
    const other = await startTestServer({ databaseUrl: a.databaseUrl, env: { REDIS_KEY_PREFIX: 'elsewhere:' } });
    try {
      const ws = wsClient(a.wsUrl, owner.token);
      const sub = subscribe<{ messageAdded: any }>(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, {
        c: channelId,
      });
      await waitForListener(a, 'messageAdded', localId(channelId));
      const viaOther = Object.assign(Object.create(Object.getPrototypeOf(member)), member, { graphqlUrl: other.graphqlUrl });
      await send(viaOther, channelId, 'heard only by its own deployment');
      const viaB = await send(member, channelId, 'heard here');
      expect((await sub.next()).messageAdded.id).toBe(viaB);
      await viaOther.ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId });
      const seenOnA = await owner.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { typingUsers { username } } }`, {
        c: channelId,
      });
      expect(seenOnA.channel.typingUsers).toEqual([]);
      sub.close();
      await ws.dispose();
    } finally {
      await other.stop();
    }
  });

  it('shows typing everywhere, and cuts an open subscription on the other instance when its member leaves', async () => {
    const leaver = await signUp(a.graphqlUrl);
    await invite(owner, guildId, leaver);
    const ws = wsClient(a.wsUrl, owner.token);
    const typing = subscribe<{ typing: any }>(ws, `subscription($c: ID!) { typing(channelId: $c) { isTyping user { username } } }`, {
      c: channelId,
    });
    await waitForListener(a, 'typing', localId(channelId));
    await member.ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId });
    expect((await typing.next()).typing).toEqual({ isTyping: true, user: { username: member.username } });
    const seenOnA = await owner.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { typingUsers { username } } }`, {
      c: channelId,
    });
    expect(seenOnA.channel.typingUsers).toEqual([{ username: member.username }]);
    typing.close();
    await ws.dispose();

    const leaverWs = wsClient(a.wsUrl, leaver.token);
    const sub = subscribe(leaverWs, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: channelId });
    await waitForListener(a, 'messageAdded', localId(channelId));
    // leaves through instance B; the subscription lives on instance A
    const viaB = Object.assign(Object.create(Object.getPrototypeOf(leaver)), leaver, { graphqlUrl: b.graphqlUrl });
    await viaB.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId });
    await sub.completed;
    await leaverWs.dispose();
  });

  it('turns a user OFFLINE after the instance holding their connection is killed', async () => {
    const doomed = await startInstanceProcess({
      DATABASE_URL: a.databaseUrl!,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      JWT_SECRET,
      PRESENCE_TTL_MS: '1000',
    });
    const ownerWs = wsClient(a.wsUrl, owner.token);
    const presence = subscribe<{ presence: any }>(ownerWs, PRESENCE, { g: guildId });
    await waitForListener(a, 'presence', localId(guildId));
    const aboutMember = (e: { presence: any }) => e.presence.user.username === member.username;

    const memberWs = wsClient(doomed.wsUrl, member.token, { retryAttempts: 0, onNonLazyError: () => {} });
    const held = subscribe(memberWs, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: channelId });
    expect((await presence.nextMatching(aboutMember)).presence.status).toBe('ONLINE');

    doomed.proc.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');
    expect((await presence.nextMatching(aboutMember, 10_000)).presence.status).toBe('OFFLINE');
    const { guild } = await owner.ok<{ guild: any }>(`query($g: ID!) { guild(id: $g) { onlineMembers { username } } }`, {
      g: guildId,
    });
    expect(guild.onlineMembers).not.toContainEqual({ username: member.username });
    held.close();
    presence.close();
    await Promise.all([ownerWs.dispose(), memberWs.dispose()]);
  });

  it('shows who is here across instances, and drops the users of a killed instance within the presence TTL', async () => {
    const ACTIVITY = `subscription($c: ID!) { channelActivity(channelId: $c) { users { id } joined { id } left { id } } }`;
    const ownerWs = wsClient(a.wsUrl, owner.token);
    const seen = subscribe<{ channelActivity: any }>(ownerWs, ACTIVITY, { c: channelId });
    expect((await seen.next()).channelActivity.users).toEqual([{ id: owner.userId }]);

    const memberWsB = wsClient(b.wsUrl, member.token);
    const viaB = subscribe<{ channelActivity: any }>(memberWsB, ACTIVITY, { c: channelId });
    expect((await viaB.next()).channelActivity.users).toHaveLength(2);
    expect((await seen.next()).channelActivity.joined).toEqual([{ id: member.userId }]);
    const active = await member.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { activeUsers { id } } }`, { c: channelId });
    expect(active.channel.activeUsers).toHaveLength(2);
    viaB.close();
    expect((await seen.next()).channelActivity.left).toEqual([{ id: member.userId }]);

    const doomed = await startInstanceProcess({
      DATABASE_URL: a.databaseUrl!,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      JWT_SECRET,
      PRESENCE_TTL_MS: '1000',
      DEFAULT_GUILD_NAME: '',
    });
    const doomedWs = wsClient(doomed.wsUrl, member.token, { retryAttempts: 0, onNonLazyError: () => {} });
    const held = subscribe<{ channelActivity: any }>(doomedWs, ACTIVITY, { c: channelId });
    await held.next();
    expect((await seen.next()).channelActivity.joined).toEqual([{ id: member.userId }]);
    doomed.proc.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');
    const gone = (await seen.next(10_000)).channelActivity;
    expect(gone).toEqual({ users: [{ id: owner.userId }], joined: [], left: [{ id: member.userId }] });
    held.close();
    seen.close();
    await Promise.all([ownerWs.dispose(), memberWsB.dispose(), doomedWs.dispose()]);
  });

  it('closes subscriptions with 1001 on SIGTERM so clients reconnect elsewhere', async () => {
    const leaving = await startInstanceProcess({
      DATABASE_URL: a.databaseUrl!,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      JWT_SECRET,
    });
    const closed = new Promise<number>((resolve) => {
      const ws = wsClient(leaving.wsUrl, member.token, { on: { closed: (e) => resolve((e as CloseEvent).code) } });
      subscribe(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: channelId });
    });
    // the socket is open once the server counts the member online
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { user } = await owner.ok<{ user: any }>(`query($u: ID!) { user(id: $u) { status } }`, { u: member.userId });
      if (user.status === 'ONLINE') break;
      if (Date.now() > deadline) throw new Error('member never came online');
      await new Promise((r) => setTimeout(r, 20));
    }
    leaving.proc.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await leaving.exited, leaving.output()).toBe(0);
  });
});

describe('start-up of several instances', () => {
  it('brings up instances started together on an empty database, migrating once', async () => {
    const db = await createTestDatabase();
    try {
      const servers = await Promise.all([1, 2, 3].map(() => startTestServer({ databaseUrl: db.url })));
      for (const s of servers) expect((await fetch(`${s.url}/health/ready`)).status).toBe(200);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query(
        'SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY migration_name',
      );
      await client.end();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      await Promise.all(servers.map((s) => s.stop()));
    } finally {
      await db.drop();
    }
  });

  it('makes one lobby when instances start together on an empty database', async () => {
    const db = await createTestDatabase();
    try {
      const servers = await Promise.all([1, 2, 3].map(() => startTestServer({ databaseUrl: db.url, env: { DEFAULT_GUILD_NAME: 'Lobby' } })));
      const joiners = await Promise.all(servers.map((s) => signUp(s.graphqlUrl)));
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query(`SELECT g.id, (SELECT count(*)::int FROM "Member" m WHERE m."guildId" = g.id) AS members FROM "Guild" g`);
      await client.end();
      expect(rows).toEqual([{ id: expect.any(String), members: joiners.length }]);
      await Promise.all(servers.map((s) => s.stop()));
    } finally {
      await db.drop();
    }
  });
});
