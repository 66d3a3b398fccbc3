// The life of a small community, end to end, as two people would live it through the API.
// The steps run in order and build on each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from './support/app.js';
import { Client, PASSWORD, signIn } from './support/client.js';

const REGISTER = `mutation($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id username displayName email } }
}`;
const VIEWER = `{ viewer { id username email } }`;
const PROFILE = `query($id: ID!) { user(id: $id) { id username email createdAt ownedGuildCount messageCount } }`;
const GUILD = `query($id: ID!) {
  guild(id: $id) { id name isPublic memberCount owner { id } channels { id name type position } }
}`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content author { username } } }`;
const HISTORY = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  channel(id: $id) {
    messages(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { id content author { id } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`;

interface History {
  totalCount: number;
  edges: { cursor: string; node: { id: string; content: string; author: { id: string } } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

async function register(username: string): Promise<{ client: Client; payload: any }> {
  const client = new Client(server.graphqlUrl);
  const { register } = await client.ok<{ register: any }>(REGISTER, {
    input: { username, email: `${username}@example.com`, password: PASSWORD },
  });
  client.token = register.accessToken;
  client.userId = register.user.id;
  client.username = username;
  return { client, payload: register };
}

async function history(client: Client, channelId: string, args: Record<string, unknown> = {}): Promise<History> {
  return (await client.ok<{ channel: { messages: History } }>(HISTORY, { id: channelId, ...args })).channel.messages;
}
const contents = (h: History) => h.edges.map((e) => e.node.content);

describe('a guild from creation to deletion', () => {
  let ada: Client; // signed in by username
  let bob: Client; // signed in by email
  let guildId: string;
  let generalId: string;
  let engineId: string;
  const sent: { id: string; content: string }[] = []; // in send order, in #engines

  it('two people register, then sign in by username and by email', async () => {
    const adaReg = await register('ada');
    expect(adaReg.payload.user).toMatchObject({ username: 'ada', displayName: 'ada', email: 'ada@example.com' });
    const bobReg = await register('bob');
    expect(bobReg.payload.user.email).toBe('bob@example.com');

    ada = await signIn(server.graphqlUrl, 'ada');
    bob = await signIn(server.graphqlUrl, 'bob@example.com');
    expect(ada.userId).toBe(adaReg.client.userId);
    expect(bob.userId).toBe(bobReg.client.userId);
    expect((await ada.ok(VIEWER)).viewer).toEqual({ id: ada.userId, username: 'ada', email: 'ada@example.com' });
    expect((await bob.ok(VIEWER)).viewer).toEqual({ id: bob.userId, username: 'bob', email: 'bob@example.com' });
  });

  it('ada creates a guild: she owns it, belongs to it, and it has a #general text channel', async () => {
    const { createGuild } = await ada.ok<{ createGuild: any }>(
      `mutation { createGuild(input: { name: "Analytical Engine Club" }) { id } }`,
    );
    guildId = createGuild.id;
    const { guild } = await ada.ok(GUILD, { id: guildId });
    expect(guild).toMatchObject({ name: 'Analytical Engine Club', isPublic: false, memberCount: 1, owner: { id: ada.userId } });
    expect(guild.channels).toEqual([{ id: expect.any(String), name: 'general', type: 'TEXT', position: 0 }]);
    generalId = guild.channels[0].id;

    // the guild is private: bob cannot see it yet
    await bob.fails('NOT_FOUND', GUILD, { id: guildId });
  });

  it('ada invites bob, and bob joins', async () => {
    const { createInvite } = await ada.ok(`mutation($g: ID!) { createInvite(guildId: $g) { code uses guild { id } } }`, { g: guildId });
    expect(createInvite).toMatchObject({ uses: 0, guild: { id: guildId } });
    const { joinGuild } = await bob.ok(`mutation($c: String!) { joinGuild(inviteCode: $c) { id memberCount } }`, {
      c: createInvite.code,
    });
    expect(joinGuild).toEqual({ id: guildId, memberCount: 2 });
    expect((await bob.ok(GUILD, { id: guildId })).guild.channels.map((c: { id: string }) => c.id)).toEqual([generalId]);
  });

  it('ada creates a channel; bob, a plain member, may not', async () => {
    const create = `mutation($input: CreateChannelInput!) { createChannel(input: $input) { id name type position } }`;
    const { createChannel } = await ada.ok(create, { input: { guildId, name: 'engines' } });
    expect(createChannel).toMatchObject({ name: 'engines', type: 'TEXT', position: 1 });
    engineId = createChannel.id;
    await bob.fails('FORBIDDEN', create, { input: { guildId, name: 'bobs-corner' } });
    expect((await bob.ok(GUILD, { id: guildId })).guild.channels.map((c: { name: string }) => c.name)).toEqual(['general', 'engines']);
  });

  it('both send messages', async () => {
    for (let i = 1; i <= 6; i++) {
      const author = i % 2 ? ada : bob;
      const { sendMessage } = await author.ok(SEND, { input: { channelId: engineId, content: `note ${i}` } });
      expect(sendMessage).toMatchObject({ content: `note ${i}`, author: { username: author.username } });
      sent.push({ id: sendMessage.id, content: sendMessage.content });
    }
    await bob.ok(SEND, { input: { channelId: generalId, content: 'hello from general' } });
  });

  it('bob pages back through the history with first/after', async () => {
    const newest = await history(bob, engineId, { first: 4 });
    expect(contents(newest)).toEqual(['note 6', 'note 5', 'note 4', 'note 3']);
    expect(newest.totalCount).toBe(6);
    expect(newest.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(newest.edges[0]!.node.author.id).toBe(bob.userId);

    const older = await history(bob, engineId, { first: 4, after: newest.pageInfo.endCursor });
    expect(contents(older)).toEqual(['note 2', 'note 1']);
    expect(older.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(older.totalCount).toBe(6);
  });

  it('and catches up forward with last/before, a message id serving as the cursor', async () => {
    const [note1, note2, note3] = sent;
    const newer = await history(bob, engineId, { last: 2, before: note2!.id });
    expect(contents(newer)).toEqual(['note 4', 'note 3']);
    expect(newer.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    expect(newer.edges.map((e) => e.node.id)).toEqual([sent[3]!.id, note3!.id]);

    const rest = await history(bob, engineId, { last: 10, before: newer.pageInfo.startCursor });
    expect(contents(rest)).toEqual(['note 6', 'note 5']);
    expect(rest.pageInfo.hasPreviousPage).toBe(false);

    const afterFirst = await history(bob, engineId, { first: 10, after: sent[5]!.id });
    expect(afterFirst.edges.at(-1)!.node.id).toBe(note1!.id);
  });

  it('profiles show what each has done, and email only to its owner', async () => {
    const { user: adaSeenByBob } = await bob.ok(PROFILE, { id: ada.userId });
    expect(adaSeenByBob).toMatchObject({ username: 'ada', email: null, ownedGuildCount: 1, messageCount: 3 });
    expect(Date.parse(adaSeenByBob.createdAt)).not.toBeNaN();
    const { user: bobSeenByBob } = await bob.ok(PROFILE, { id: bob.userId });
    expect(bobSeenByBob).toMatchObject({ email: 'bob@example.com', ownedGuildCount: 0, messageCount: 4 });
  });

  it('messages are deleted by their author, or by the owner; not by another member', async () => {
    const adaFirst = sent[0]!;
    const bobFirst = sent[1]!;
    await bob.fails('FORBIDDEN', `mutation($id: ID!) { deleteMessage(id: $id) }`, { id: adaFirst.id });
    expect(await bob.ok(`mutation($id: ID!) { deleteMessage(id: $id) }`, { id: sent[3]!.id })).toEqual({ deleteMessage: sent[3]!.id });
    expect(await ada.ok(`mutation($id: ID!) { deleteMessage(id: $id) }`, { id: bobFirst.id })).toEqual({ deleteMessage: bobFirst.id });
    const left = await history(bob, engineId);
    expect(contents(left)).toEqual(['note 6', 'note 5', 'note 3', 'note 1']);
    expect(left.totalCount).toBe(4);
    expect((await ada.ok(PROFILE, { id: bob.userId })).user.messageCount).toBe(2);
  });

  it('ada deletes the channel; its messages go with it', async () => {
    expect(await ada.ok(`mutation($id: ID!) { deleteChannel(id: $id) }`, { id: engineId })).toEqual({ deleteChannel: engineId });
    await bob.fails('NOT_FOUND', `query($id: ID!) { channel(id: $id) { id } }`, { id: engineId });
    await bob.fails('NOT_FOUND', `query($id: ID!) { message(id: $id) { id } }`, { id: sent[5]!.id });
    expect((await bob.ok(GUILD, { id: guildId })).guild.channels.map((c: { id: string }) => c.id)).toEqual([generalId]);
  });

  it('bob leaves; ada cannot leave her own guild', async () => {
    await ada.fails('FORBIDDEN', `mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId });
    expect(await bob.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId })).toEqual({ leaveGuild: guildId });
    await bob.fails('NOT_FOUND', GUILD, { id: guildId });
    await bob.fails('NOT_FOUND', SEND, { input: { channelId: generalId, content: 'am I still here?' } });
    expect((await ada.ok(GUILD, { id: guildId })).guild.memberCount).toBe(1);
  });

  it('ada deletes the guild', async () => {
    expect(await ada.ok(`mutation($id: ID!) { deleteGuild(id: $id) }`, { id: guildId })).toEqual({ deleteGuild: guildId });
    await ada.fails('NOT_FOUND', GUILD, { id: guildId });
    await ada.fails('NOT_FOUND', `query($id: ID!) { channel(id: $id) { id } }`, { id: generalId });
    expect((await ada.ok(`{ guilds { totalCount } }`)).guilds.totalCount).toBe(0);
    expect((await ada.ok(PROFILE, { id: ada.userId })).user.ownedGuildCount).toBe(0);
  });
});
