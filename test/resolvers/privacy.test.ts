// Presence and profiles are for those who share a guild: a stranger sees nobody online,
// whatever path leads to them (a public guild's owner, the directory), and user(id) finds nobody.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { createGuild, invite, localId, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const OWNER_STATUS = `query($g: ID!) { guild(id: $g) { owner { id status } } }`;

describe('presence and profiles of strangers', () => {
  it('a public guild’s owner is OFFLINE to strangers and ONLINE to members; the directory shows them OFFLINE, user(id) does not find them', async () => {
    const owner = await signUp(server.graphqlUrl);
    const member = await signUp(server.graphqlUrl);
    const stranger = await signUp(server.graphqlUrl);
    const { guildId, generalId } = await createGuild(owner, 'Open doors', true);
    await invite(owner, guildId, member);

    const ws = wsClient(server.wsUrl, owner.token);
    const sub = subscribe(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: generalId });
    await waitForListener(server, 'messageAdded', localId(generalId));
    const deadline = Date.now() + 10_000;
    while ((await member.ok<any>(OWNER_STATUS, { g: guildId })).guild.owner.status !== 'ONLINE') {
      if (Date.now() > deadline) throw new Error('the owner never came online');
      await new Promise((r) => setTimeout(r, 20));
    }

    expect((await stranger.ok<any>(OWNER_STATUS, { g: guildId })).guild.owner).toEqual({ id: owner.userId, status: 'OFFLINE' });
    const { users } = await stranger.ok<any>(`query($s: String) { users(search: $s) { edges { node { id status } } } }`, {
      s: owner.username,
    });
    expect(users.edges).toEqual([{ node: { id: owner.userId, status: 'OFFLINE' } }]);
    await stranger.fails('NOT_FOUND', `query($u: ID!) { user(id: $u) { status } }`, { u: owner.userId });

    // once they share the guild, they see it
    await stranger.ok(`mutation($g: ID!) { joinPublicGuild(guildId: $g) { id } }`, { g: guildId });
    expect((await stranger.ok<any>(OWNER_STATUS, { g: guildId })).guild.owner.status).toBe('ONLINE');
    expect((await stranger.ok<any>(`query($u: ID!) { user(id: $u) { status } }`, { u: owner.userId })).user.status).toBe('ONLINE');

    sub.close();
    await ws.dispose();
  });

  it('the viewer always sees their own status', async () => {
    const loner = await signUp(server.graphqlUrl);
    const { viewer } = await loner.ok<any>(`{ viewer { status } }`);
    expect(viewer.status).toBe('OFFLINE');
    const ws = wsClient(server.wsUrl, loner.token);
    const { generalId } = await createGuild(loner, 'Alone');
    const sub = subscribe(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: generalId });
    await waitForListener(server, 'messageAdded', localId(generalId));
    const deadline = Date.now() + 10_000;
    while ((await loner.ok<any>(`{ viewer { status } }`)).viewer.status !== 'ONLINE') {
      if (Date.now() > deadline) throw new Error('never online');
      await new Promise((r) => setTimeout(r, 20));
    }
    sub.close();
    await ws.dispose();
  });
});
