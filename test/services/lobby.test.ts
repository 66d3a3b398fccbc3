// The default place to land: a public "Lobby" made on the first start, that every new account
// joins; the first account to register owns it. Never two, however many instances race.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createMemoryPubSub } from '../../src/pubsub/memory.js';
import { Access } from '../../src/services/access.js';
import { GuildService } from '../../src/services/guilds.js';
import { LobbyService } from '../../src/services/lobby.js';
import { type TestServer, createTestDatabase, startTestServer, usingPostgres, waitForListener } from '../support/app.js';
import { Client, localId, send, signIn, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const LOBBY = `{ guilds { edges { node { id name isPublic owner { id } memberCount channels { id name } } } } }`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { DEFAULT_GUILD_NAME: 'Lobby' } });
});
afterAll(() => server?.stop());

async function lobbyOf(client: Client) {
  const { guilds } = await client.ok<{ guilds: { edges: { node: any }[] } }>(LOBBY);
  return guilds.edges.map((e) => e.node).filter((g) => g.name === 'Lobby');
}

describe('the lobby', () => {
  it('is there for the first account, which owns it and can chat in #general at once; later accounts join it', async () => {
    const first = await signUp(server.graphqlUrl);
    const [lobby] = await lobbyOf(first);
    expect(lobby).toMatchObject({ isPublic: true, owner: { id: first.userId }, memberCount: 1, channels: [{ name: 'general' }] });
    await send(first, lobby.channels[0].id, 'hello, anyone?');

    const ws = wsClient(server.wsUrl, first.token);
    const events = subscribe<{ guildEvents: any }>(ws, `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on MemberJoinedEvent { user { id } } } }`, {
      g: lobby.id,
    });
    await waitForListener(server, 'guildEvent', localId(lobby.id));
    const second = await signUp(server.graphqlUrl);
    expect((await events.next()).guildEvents).toEqual({ __typename: 'MemberJoinedEvent', user: { id: second.userId } });
    const [seen] = await lobbyOf(second);
    expect(seen).toMatchObject({ id: lobby.id, owner: { id: first.userId }, memberCount: 2 });
    const { channel } = await second.ok<{ channel: any }>(
      `query($c: ID!) { channel(id: $c) { messages(first: 5) { edges { node { content author { id } } } } } }`,
      { c: lobby.channels[0].id },
    );
    expect(channel.messages.edges).toEqual([{ node: { content: 'hello, anyone?', author: { id: first.userId } } }]);
    events.close();
    await ws.dispose();
  });

  it('belongs to a system account until then, which nobody can sign in as or find', async () => {
    await expect(signIn(server.graphqlUrl, '~system', '!')).rejects.toThrow();
    const me = await signUp(server.graphqlUrl);
    for (const term of ['~sys', 'System', 'sys']) {
      const { users } = await me.ok<{ users: any }>(`query($s: String) { users(search: $s) { edges { node { username } } } }`, { s: term });
      expect(users.edges.map((e: any) => e.node.username)).not.toContain('~system');
    }
  });

  it('is made once, however many instances race to make it, owned by the earliest account of an instance that had some', async () => {
    const upgraded = await startTestServer({ env: { DEFAULT_GUILD_NAME: '' } });
    const db = upgraded.app.db.prisma;
    const pubsub = createMemoryPubSub();
    try {
      const admin = await signUp(upgraded.graphqlUrl);
      await signUp(upgraded.graphqlUrl);
      const racers = [1, 2, 3].map(() => new LobbyService(db, new GuildService(db, new Access(db), pubsub), 'Lobby'));
      const ids = await Promise.all(racers.map((r) => r.ensure()));
      expect(new Set(ids).size).toBe(1);
      expect(await db.guild.findMany({ select: { id: true, name: true, isPublic: true, ownerId: true } })).toEqual([
        { id: ids[0], name: 'Lobby', isPublic: true, ownerId: localId(admin.userId!) },
      ]);
      expect(await db.member.count({ where: { guildId: ids[0]! } })).toBe(1);
      // a newcomer joins it, and does not take it over
      const newcomer = await signUp(upgraded.graphqlUrl);
      await racers[0]!.welcome(localId(newcomer.userId!));
      expect(await db.guild.findUnique({ where: { id: ids[0]! }, select: { ownerId: true } })).toEqual({ ownerId: localId(admin.userId!) });
      expect(await db.member.count({ where: { guildId: ids[0]! } })).toBe(2);
    } finally {
      await pubsub.close();
      await upgraded.stop();
    }
  });
});

describe('a restart', () => {
  it('finds the lobby it made before instead of making another', async () => {
    const dataDir = usingPostgres ? null : await mkdtemp(path.join(tmpdir(), 'chat-lobby-'));
    const database = usingPostgres ? await createTestDatabase() : null;
    const env = { DEFAULT_GUILD_NAME: 'Welcome', ...(dataDir ? { PGLITE_DATA_DIR: dataDir } : {}) };
    const boot = () => startTestServer({ env, ...(database ? { databaseUrl: database.url } : {}) });
    try {
      let instance = await boot();
      const before = await signUp(instance.graphqlUrl);
      await instance.stop();
      instance = await boot();
      const after = await signUp(instance.graphqlUrl);
      const { guilds } = await after.ok<{ guilds: any }>(`{ guilds { edges { node { name owner { id } memberCount } } } }`);
      expect(guilds.edges.map((e: any) => e.node)).toEqual([{ name: 'Welcome', owner: { id: before.userId }, memberCount: 2 }]);
      await instance.stop();
    } finally {
      await database?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('DEFAULT_GUILD_NAME', () => {
  it('is "Lobby" unless set; empty means no lobby', async () => {
    expect(loadConfig({}).DEFAULT_GUILD_NAME).toBe('Lobby');
    expect(loadConfig({ DEFAULT_GUILD_NAME: 'Town Square' }).DEFAULT_GUILD_NAME).toBe('Town Square');
    expect(loadConfig({ DEFAULT_GUILD_NAME: '' }).DEFAULT_GUILD_NAME).toBe('');
    expect(() => loadConfig({ DEFAULT_GUILD_NAME: 'x'.repeat(101) })).toThrow(/DEFAULT_GUILD_NAME/);

    const quiet = await startTestServer({ env: { DEFAULT_GUILD_NAME: '' } });
    try {
      const me = await signUp(quiet.graphqlUrl);
      expect((await me.ok<{ guilds: any }>(`{ guilds { totalCount } }`)).guilds.totalCount).toBe(0);
    } finally {
      await quiet.stop();
    }
  });
});
