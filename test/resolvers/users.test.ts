// viewer, user, users(search) (the directory), and what a profile shows to whom.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainDirectory } from '../../src/services/userSearch.js';
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

describe('users(search): the directory', () => {
  let me: Client;
  let mate: Client;
  let stranger: Client;
  let hidden: Client;
  let hiddenMate: Client;
  const prefix = uniqueName('srch');

  beforeAll(async () => {
    me = await signUp(server.graphqlUrl, `${prefix}_me`);
    mate = await signUp(server.graphqlUrl, `${prefix}_mate`);
    stranger = await signUp(server.graphqlUrl, `${prefix}_stranger`);
    hidden = await signUp(server.graphqlUrl, `${prefix}_hidden`);
    hiddenMate = await signUp(server.graphqlUrl, `${prefix}_hmate`);
    const { guildId } = await createGuild(me, 'Search party');
    await invite(me, guildId, mate);
    await invite(me, guildId, hiddenMate);
    for (const c of [hidden, hiddenMate]) await c.ok(`mutation { updateProfile(input: { discoverable: false }) { id } }`);
  });

  it('finds anyone on the instance by the start of their username, ignoring case, in username order', async () => {
    const everyone = [me, mate, stranger, hiddenMate].map((c) => c.username!);
    expect(await search(me, prefix)).toEqual([...everyone].sort());
    expect(await search(stranger, `${prefix}_MA`)).toEqual([mate.username]);
    expect(await search(stranger, `${prefix}_st`)).toEqual([stranger.username]);
  });

  it('finds people by the start of their display name too', async () => {
    const named = await signUpWithDisplayName(`Zeb${prefix} Q`);
    expect(await search(stranger, `zeb${prefix}`)).toEqual([named.username]);
    expect(await search(stranger, `ZEB${prefix.toUpperCase()} q`)).toEqual([named.username]);
    expect(await search(stranger, `eb${prefix}`)).toEqual([]);
  });

  it('leaves out people who are not discoverable, except to those sharing a guild with them and to themselves', async () => {
    expect(await search(stranger, `${prefix}_hidden`)).toEqual([]);
    expect(await search(stranger, `${prefix}_hmate`)).toEqual([]);
    expect(await search(me, `${prefix}_hmate`)).toEqual([hiddenMate.username]);
    expect(await search(hidden, `${prefix}_hidden`)).toEqual([hidden.username]);
    expect((await hidden.ok(`{ viewer { discoverable } }`)).viewer.discoverable).toBe(false);
    expect((await me.ok(`{ viewer { discoverable } }`)).viewer.discoverable).toBe(true);
  });

  it('shows a stranger the card (name, bio) but not their email, status or custom status, and user(id) stays NOT_FOUND', async () => {
    await stranger.ok(`mutation { updateProfile(input: { bio: "hi all", customStatus: { text: "busy" } }) { id } }`);
    const { users } = await me.ok<{ users: any }>(
      `query($s: String) { users(search: $s) { edges { node { id username email bio status customStatus { text } discoverable } } } }`,
      { s: stranger.username },
    );
    expect(users.edges).toEqual([
      { node: { id: stranger.userId, username: stranger.username, email: null, bio: 'hi all', status: 'OFFLINE', customStatus: null, discoverable: null } },
    ]);
    await me.fails('NOT_FOUND', USER, { id: stranger.userId });
  });

  it('finds someone hidden who is banned from a guild of yours by exact username only, so they can be unbanned', async () => {
    const owner = await signUp(server.graphqlUrl);
    const helper = await signUp(server.graphqlUrl);
    const troll = await signUp(server.graphqlUrl);
    await troll.ok(`mutation { updateProfile(input: { discoverable: false }) { id } }`);
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
    expect(await search(stranger, p)).toEqual([owner.username, plain.username].sort());
    expect(await search(stranger, `${p}_`)).toEqual([owner.username]);
    expect(await search(stranger, `${p}%`)).toEqual([]);
  });

  it('never shows other people their email', async () => {
    const { users } = await me.ok<{ users: any }>(SEARCH, { search: prefix });
    for (const { node } of users.edges) {
      expect(node.email).toBe(node.id === me.userId ? `${me.username}@example.com` : null);
    }
  });

  it('without a search term lists the viewer and their guildmates only', async () => {
    expect(await search(me)).toEqual([me.username, mate.username, hiddenMate.username].sort());
    expect(await search(stranger)).toEqual([stranger.username]);
  });

  it('pages with first/after in a stable order and counts the matches', async () => {
    const all = await search(me, prefix);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { users: any } = await me.ok<{ users: any }>(SEARCH, { search: prefix, first: 1, after });
      expect(page.users.totalCount).toBe(all.length);
      seen.push(...page.users.edges.map((e: any) => e.node.username));
      if (!page.users.pageInfo.hasNextPage) break;
      after = page.users.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    // a user registered meanwhile lands in order without shifting what was already paged
    await signUp(server.graphqlUrl, `${prefix}_a_late`);
    const again = await me.ok<{ users: any }>(SEARCH, { search: prefix, first: 2 });
    expect(again.users.edges.map((e: any) => e.node.username)).toEqual([`${prefix}_a_late`, all[0]]);
  });

  it('is for signed-in users only, and refuses first above 100', async () => {
    await new Client(server.graphqlUrl).fails('UNAUTHENTICATED', SEARCH, { search: prefix });
    await failsOnField(me, 'first', SEARCH, { search: prefix, first: 101 });
  });

  it('is served by the prefix indexes (the plan uses them once sequential scans are ruled out)', async () => {
    const plan = await server.app.db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
      return explainDirectory(tx, { viewerId: me.userId!, term: 'abc' });
    });
    expect(plan).toMatch(/User_displayName_prefix_idx/);
    expect(plan).toMatch(/User_usernameKey_(prefix_idx|key)/);
    expect(plan).not.toMatch(/Seq Scan on "User"/);
  });
});
