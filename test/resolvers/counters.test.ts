// The counts a profile and a history page show (User.messageCount, User.ownedGuildCount,
// Channel.messages.totalCount) are counters kept by the database in the transaction of each
// write: they must stay right through every way messages and guilds come and go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createChannel, createGuild, invite, localId, send, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const PROFILE = `query($id: ID!) { user(id: $id) { messageCount ownedGuildCount } }`;
const TOTAL = `query($c: ID!) { channel(id: $c) { messages(first: 1) { totalCount } } }`;

/** What `viewer` sees on `whom`'s profile. */
async function profile(viewer: Client, whom: Client = viewer) {
  return (await viewer.ok<{ user: { messageCount: number; ownedGuildCount: number } }>(PROFILE, { id: whom.userId })).user;
}

async function totalCount(viewer: Client, channelId: string): Promise<number> {
  return (await viewer.ok<{ channel: { messages: { totalCount: number } } }>(TOTAL, { c: channelId })).channel.messages.totalCount;
}

const deleteMessage = (client: Client, id: string) => client.ok(`mutation($id: ID!) { deleteMessage(id: $id) }`, { id });

describe('message counts', () => {
  it('follow sends and deletions of messages, channels and guilds', async () => {
    const alice = await signUp(server.graphqlUrl);
    const bob = await signUp(server.graphqlUrl);
    const { guildId, generalId } = await createGuild(alice, 'Counted');
    await invite(alice, guildId, bob);
    const randomId = await createChannel(alice, guildId, 'random');
    expect(await totalCount(alice, generalId)).toBe(0);

    const first = await send(alice, generalId, 'one');
    await send(alice, generalId, 'two');
    await send(bob, generalId, 'three');
    await send(alice, randomId, 'elsewhere');
    expect(await totalCount(bob, generalId)).toBe(3);
    expect(await totalCount(bob, randomId)).toBe(1);
    expect(await profile(bob, alice)).toMatchObject({ messageCount: 3 });
    expect(await profile(alice, bob)).toMatchObject({ messageCount: 1 });

    await deleteMessage(alice, first);
    expect(await totalCount(bob, generalId)).toBe(2);
    expect(await profile(bob, alice)).toMatchObject({ messageCount: 2 });

    // a deleted channel takes its messages out of their authors' counts
    await alice.ok(`mutation($id: ID!) { deleteChannel(id: $id) }`, { id: randomId });
    expect(await profile(bob, alice)).toMatchObject({ messageCount: 1 });
    expect(await totalCount(bob, generalId)).toBe(2);

    // and so does a deleted guild
    const other = await createGuild(bob, 'Other');
    await send(bob, other.generalId, 'kept');
    await alice.ok(`mutation($id: ID!) { deleteGuild(id: $id) }`, { id: guildId });
    expect(await profile(bob)).toMatchObject({ messageCount: 1 });
    expect(await profile(alice)).toMatchObject({ messageCount: 0 });
  });

  it('stay exact under concurrent senders in one channel', async () => {
    const owner = await signUp(server.graphqlUrl);
    const { guildId, generalId } = await createGuild(owner, 'Busy');
    const senders = [owner];
    for (let i = 0; i < 3; i++) {
      const member = await signUp(server.graphqlUrl);
      await invite(owner, guildId, member);
      senders.push(member);
    }
    await Promise.all(senders.flatMap((s) => Array.from({ length: 8 }, (_, i) => send(s, generalId, `burst ${i}`))));
    expect(await totalCount(owner, generalId)).toBe(32);
    for (const s of senders) expect(await profile(owner, s)).toMatchObject({ messageCount: 8 });
  });

  it('lose the messages of a deleted account, in the channel and in mentions', async () => {
    const alice = await signUp(server.graphqlUrl);
    const carol = await signUp(server.graphqlUrl);
    const { guildId, generalId } = await createGuild(alice, 'Leavers');
    await invite(alice, guildId, carol);
    await send(alice, generalId, 'welcome');
    await send(carol, generalId, `hi <@${alice.userId}>`);
    await send(carol, generalId, 'bye');
    const state = `query($c: ID!) { channel(id: $c) { mentionCount unreadCount messages(first: 1) { totalCount } } }`;
    expect((await alice.ok<{ channel: any }>(state, { c: generalId })).channel).toEqual({
      mentionCount: 1,
      unreadCount: 2,
      messages: { totalCount: 3 },
    });

    // accounts are deleted by an operator (no API yet): the database cascades to their messages
    await server.app.db.prisma.user.delete({ where: { id: localId(carol.userId!) } });
    expect((await alice.ok<{ channel: any }>(state, { c: generalId })).channel).toEqual({
      mentionCount: 0,
      unreadCount: 0,
      messages: { totalCount: 1 },
    });
    expect(await profile(alice)).toMatchObject({ messageCount: 1 });
  });
});

describe('owned guild counts', () => {
  it('follow guild creation, transfer and deletion', async () => {
    const alice = await signUp(server.graphqlUrl);
    const bob = await signUp(server.graphqlUrl);
    expect(await profile(alice)).toMatchObject({ ownedGuildCount: 0 });
    const first = await createGuild(alice, 'First');
    const second = await createGuild(alice, 'Second');
    await invite(alice, first.guildId, bob);
    expect(await profile(bob, alice)).toMatchObject({ ownedGuildCount: 2 });

    await alice.ok(`mutation($g: ID!, $u: ID!) { transferGuildOwnership(guildId: $g, userId: $u) { id } }`, {
      g: first.guildId,
      u: bob.userId,
    });
    expect(await profile(bob, alice)).toMatchObject({ ownedGuildCount: 1 });
    expect(await profile(alice, bob)).toMatchObject({ ownedGuildCount: 1 });

    await alice.ok(`mutation($id: ID!) { deleteGuild(id: $id) }`, { id: second.guildId });
    await bob.ok(`mutation($id: ID!) { deleteGuild(id: $id) }`, { id: first.guildId });
    expect(await profile(alice)).toMatchObject({ ownedGuildCount: 0 });
    expect(await profile(bob)).toMatchObject({ ownedGuildCount: 0 });
  });

  it('are the same on a profile, on the viewer and on a message author', async () => {
    const alice = await signUp(server.graphqlUrl);
    const { generalId } = await createGuild(alice, 'Mine');
    await send(alice, generalId, 'hello');
    const { viewer } = await alice.ok<{ viewer: any }>(`{ viewer { messageCount ownedGuildCount } }`);
    const { channel } = await alice.ok<{ channel: any }>(
      `query($c: ID!) { channel(id: $c) { messages(first: 1) { edges { node { author { messageCount ownedGuildCount } } } } } }`,
      { c: generalId },
    );
    expect(viewer).toEqual({ messageCount: 1, ownedGuildCount: 1 });
    expect(channel.messages.edges[0].node.author).toEqual(viewer);
    expect(await profile(alice)).toEqual(viewer);
  });

  it('are on the author of a live message too (the event does not carry them)', async () => {
    const alice = await signUp(server.graphqlUrl);
    const { generalId } = await createGuild(alice, 'Live');
    await send(alice, generalId, 'before');
    const ws = wsClient(server.wsUrl, alice.token);
    try {
      const sub = subscribe<{ messageAdded: any }>(
        ws,
        `subscription($c: ID!) { messageAdded(channelId: $c) { author { messageCount ownedGuildCount } } }`,
        { c: generalId },
      );
      await waitForListener(server, 'messageAdded', localId(generalId));
      await send(alice, generalId, 'live');
      expect((await sub.next()).messageAdded.author).toEqual({ messageCount: 2, ownedGuildCount: 1 });
      sub.close();
    } finally {
      await ws.dispose();
    }
  });
});
