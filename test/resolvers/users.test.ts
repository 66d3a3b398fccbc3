// viewer, user, users(search), and what a profile shows to whom.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import {
  Client,
  PASSWORD,
  createGuild,
  failsOnField,
  guildWithMembers,
  invite,
  send,
  signUp,
  uniqueName,
} from '../support/client.js';

const PROFILE_FIELDS = `id username displayName email createdAt ownedGuildCount messageCount`;
const VIEWER = `{ viewer { ${PROFILE_FIELDS} } }`;
const USER = `query($id: ID!) { user(id: $id) { ${PROFILE_FIELDS} } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on User { username } } }`;
const SEARCH = `query($search: String, $first: Int, $after: String) {
  users(search: $search, first: $first, after: $after) {
    totalCount edges { node { id username email } } pageInfo { hasNextPage endCursor }
  }
}`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

async function signUpWithDisplayName(displayName: string): Promise<Client> {
  const client = new Client(server.graphqlUrl);
  const username = uniqueName('dn');
  const { register } = await client.ok<{ register: any }>(
    `mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`,
    { input: { username, email: `${username}@example.com`, password: PASSWORD, displayName } },
  );
  Object.assign(client, { token: register.accessToken, userId: register.user.id, username });
  return client;
}

async function search(client: Client, term?: string): Promise<string[]> {
  const { users } = await client.ok<{ users: { edges: { node: { username: string } }[] } }>(SEARCH, { search: term });
  return users.edges.map((e) => e.node.username);
}

describe('viewer', () => {
  it('is the signed-in user with their email and a fresh profile', async () => {
    const before = Date.now();
    const me = await signUp(server.graphqlUrl);
    const { viewer } = await me.ok(VIEWER);
    expect(viewer).toMatchObject({
      id: me.userId,
      username: me.username,
      email: `${me.username}@example.com`,
      ownedGuildCount: 0,
      messageCount: 0,
    });
    // createdAt is the moment of registration (allowing for a database clock a little off ours)
    expect(Math.abs(Date.parse(viewer.createdAt) - before)).toBeLessThan(60_000);
  });
});

describe('user', () => {
  it('shows a guildmate their counts and account date, but not their email', async () => {
    const { owner, members, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 1);
    await createGuild(owner, 'Second');
    await send(owner, generalId, 'one');
    await send(owner, generalId, 'two');
    await send(members[0]!, generalId, 'three');

    const { user } = await members[0]!.ok(USER, { id: owner.userId });
    const { viewer } = await owner.ok(VIEWER);
    expect(user).toEqual({ ...viewer, email: null });
    expect(user).toMatchObject({ username: owner.username, ownedGuildCount: 2, messageCount: 2 });
    expect(viewer.email).toBe(`${owner.username}@example.com`);
    expect((await owner.ok(USER, { id: members[0]!.userId })).user.messageCount).toBe(1);

    // nor through any other path that leads to them
    const { guild } = await members[0]!.ok(
      `query($id: ID!) { guild(id: $id) { owner { email } channels { messages { edges { node { author { id email } } } } } } }`,
      { id: guildId },
    );
    expect(guild.owner.email).toBeNull();
    for (const edge of guild.channels[0].messages.edges) {
      expect(edge.node.author.email).toBe(edge.node.author.id === members[0]!.userId ? `${members[0]!.username}@example.com` : null);
    }
  });

  it('shows the user themself their email through user(id) too', async () => {
    const me = await signUp(server.graphqlUrl);
    expect((await me.ok(USER, { id: me.userId })).user.email).toBe(`${me.username}@example.com`);
  });

  it('a stranger (no shared guild) is NOT_FOUND through user and node', async () => {
    const me = await signUp(server.graphqlUrl);
    const stranger = await signUp(server.graphqlUrl);
    await createGuild(stranger, 'Their own public place', true);
    await me.fails('NOT_FOUND', USER, { id: stranger.userId });
    await me.fails('NOT_FOUND', NODE, { id: stranger.userId });
  });

  it('a former guildmate becomes a stranger after leaving', async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    expect((await owner.ok(NODE, { id: members[0]!.userId })).node.username).toBe(members[0]!.username);
    await members[0]!.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId });
    await owner.fails('NOT_FOUND', USER, { id: members[0]!.userId });
  });

  it('refuses a malformed id with BAD_USER_INPUT and an id of another type with NOT_FOUND', async () => {
    const { owner, guildId } = await guildWithMembers(server.graphqlUrl, 0);
    await failsOnField(owner, 'id', USER, { id: 'user-1' });
    await owner.fails('NOT_FOUND', USER, { id: guildId });
  });
});

describe('users(search)', () => {
  let me: Client;
  let mate: Client;
  let stranger: Client;
  const prefix = uniqueName('srch');

  beforeAll(async () => {
    me = await signUp(server.graphqlUrl, `${prefix}_me`);
    mate = await signUp(server.graphqlUrl, `${prefix}_mate`);
    stranger = await signUp(server.graphqlUrl, `${prefix}_stranger`);
    const { guildId } = await createGuild(me, 'Search party');
    await invite(me, guildId, mate);
  });

  it('finds people sharing a guild by the start of their username, ignoring case', async () => {
    expect(await search(me, `${prefix}_ma`)).toEqual([mate.username]);
    expect(await search(me, `${prefix}_ma`.toUpperCase())).toEqual([mate.username]);
    expect((await search(me, prefix)).sort()).toEqual([me.username, mate.username].sort());
  });

  it('never finds a stranger, not even by their exact username', async () => {
    expect(await search(me, `${prefix}_str`)).toEqual([]);
    expect(await search(me, stranger.username)).toEqual([]);
    expect(await search(me, stranger.username!.toUpperCase())).toEqual([]);
  });

  it('finds someone banned from a guild of yours by exact username only, so they can be unbanned', async () => {
    const owner = await signUp(server.graphqlUrl);
    const helper = await signUp(server.graphqlUrl);
    const troll = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(owner, 'Strict');
    await invite(owner, guildId, helper);
    await invite(owner, guildId, troll);
    await owner.ok(`mutation($g: ID!, $u: ID!) { banMember(guildId: $g, userId: $u) }`, { g: guildId, u: troll.userId });
    expect(await search(helper, troll.username)).toEqual([troll.username]);
    expect(await search(helper, troll.username!.slice(0, -1))).toEqual([]);
    expect(await search(stranger, troll.username)).toEqual([]);
  });

  it('takes "_" and "%" in the search literally, not as wildcards', async () => {
    const p = uniqueName('lit');
    const owner = await signUp(server.graphqlUrl, `${p}_owner`);
    const plain = await signUp(server.graphqlUrl, `${p}xplain`);
    const { guildId } = await createGuild(owner, 'Literal');
    await invite(owner, guildId, plain);
    expect(await search(owner, p)).toEqual([owner.username, plain.username]);
    expect(await search(owner, `${p}_`)).toEqual([owner.username]);
    expect(await search(owner, `${p}%`)).toEqual([]);
  });

  it('finds guildmates by the start of their display name', async () => {
    const owner = await signUp(server.graphqlUrl);
    const named = await signUpWithDisplayName('Zebediah Q');
    const { guildId } = await createGuild(owner, 'Names');
    await invite(owner, guildId, named);
    expect(await search(owner, 'zebed')).toEqual([named.username]);
    expect(await search(stranger, 'Zebed')).toEqual([]);
  });

  it('never shows other people their email', async () => {
    const { users } = await me.ok<{ users: any }>(SEARCH, { search: prefix });
    for (const { node } of users.edges) {
      expect(node.email).toBe(node.id === me.userId ? `${me.username}@example.com` : null);
    }
  });

  it('without a search term lists the viewer and their guildmates', async () => {
    expect((await search(me)).sort()).toEqual([me.username, mate.username].sort());
    expect(await search(stranger)).toEqual([stranger.username]);
  });

  it('pages with first/after and counts the matches', async () => {
    const p1 = await me.ok<{ users: any }>(SEARCH, { search: prefix, first: 1 });
    expect(p1.users.totalCount).toBe(2);
    expect(p1.users.edges).toHaveLength(1);
    expect(p1.users.pageInfo.hasNextPage).toBe(true);
    const p2 = await me.ok<{ users: any }>(SEARCH, { search: prefix, first: 1, after: p1.users.pageInfo.endCursor });
    expect(p2.users.edges).toHaveLength(1);
    expect(p2.users.pageInfo.hasNextPage).toBe(false);
    expect(p2.users.edges[0].node.id).not.toBe(p1.users.edges[0].node.id);
  });

  it('refuses first above 100', async () => {
    await failsOnField(me, 'first', SEARCH, { search: prefix, first: 101 });
  });
});
