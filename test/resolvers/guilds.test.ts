// guilds, guild, createGuild, deleteGuild, createInvite, joinGuild, leaveGuild.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import {
  type Client,
  createGuild,
  failsOnField,
  guildWithMembers,
  invite,
  send,
  signUp,
  unknownId,
} from '../support/client.js';

const CREATE_GUILD = `mutation($input: CreateGuildInput!) {
  createGuild(input: $input) {
    id name description isPublic memberCount
    owner { id username }
    channels { id name type position }
  }
}`;
const GUILD = `query($id: ID!) { guild(id: $id) { id name isPublic memberCount channels { id name } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on Guild { name } } }`;
const GUILD_IDS = `{ guilds(first: 100) { totalCount edges { node { id } } } }`;
const CHANNEL = `query($id: ID!) { channel(id: $id) { id } }`;
const CREATE_INVITE = `mutation($g: ID!, $maxUses: Int, $expires: Int) {
  createInvite(guildId: $g, maxUses: $maxUses, expiresInSeconds: $expires) { code maxUses uses expiresAt guild { id } }
}`;
const JOIN = `mutation($c: String!) { joinGuild(inviteCode: $c) { id memberCount } }`;
const LEAVE = `mutation($g: ID!) { leaveGuild(guildId: $g) }`;
const DELETE_GUILD = `mutation($id: ID!) { deleteGuild(id: $id) }`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

const user = () => signUp(server.graphqlUrl);

async function visibleGuildIds(client: Client): Promise<string[]> {
  const { guilds } = await client.ok<{ guilds: { edges: { node: { id: string } }[] } }>(GUILD_IDS);
  return guilds.edges.map((e) => e.node.id);
}

async function createInvite(owner: Client, guildId: string, options: { maxUses?: number; expires?: number } = {}) {
  const { createInvite } = await owner.ok<{ createInvite: any }>(CREATE_INVITE, { g: guildId, ...options });
  return createInvite as { code: string; maxUses: number | null; uses: number; expiresAt: string | null };
}

describe('createGuild', () => {
  it('makes the creator its owner and only member, with a #general text channel', async () => {
    const owner = await user();
    const { createGuild } = await owner.ok<{ createGuild: any }>(CREATE_GUILD, {
      input: { name: 'Lovelace Society', description: 'Engines and notes' },
    });
    expect(createGuild).toMatchObject({
      name: 'Lovelace Society',
      description: 'Engines and notes',
      isPublic: false,
      memberCount: 1,
      owner: { id: owner.userId, username: owner.username },
      channels: [{ name: 'general', type: 'TEXT', position: 0 }],
    });
    expect(await visibleGuildIds(owner)).toContain(createGuild.id);
  });

  it('trims the name and accepts 1 to 100 characters', async () => {
    const owner = await user();
    const trimmed = await owner.ok<{ createGuild: any }>(CREATE_GUILD, { input: { name: '  Spaced out  ' } });
    expect(trimmed.createGuild.name).toBe('Spaced out');
    for (const name of ['x', 'x'.repeat(100), ` ${'y'.repeat(100)} `]) {
      await owner.ok(CREATE_GUILD, { input: { name } });
    }
  });

  it.each([
    ['empty', ''],
    ['only whitespace', '   \t '],
    ['holding a NUL character', 'nul\u0000byte'],
    ['101 characters long', 'x'.repeat(101)],
  ])('refuses a name that is %s', async (_label, name) => {
    const owner = await user();
    await failsOnField(owner, 'name', CREATE_GUILD, { input: { name } });
    expect(await visibleGuildIds(owner)).toEqual([]);
  });
});

describe('seeing guilds', () => {
  it('a private guild is NOT_FOUND to a non-member, through guild, node and the guilds list', async () => {
    const { guildId } = await guildWithMembers(server.graphqlUrl, 0);
    const stranger = await user();
    await stranger.fails('NOT_FOUND', GUILD, { id: guildId });
    await stranger.fails('NOT_FOUND', NODE, { id: guildId });
    expect(await visibleGuildIds(stranger)).not.toContain(guildId);
  });

  it('a public guild is visible to a non-member, but not its channels', async () => {
    const { guildId, generalId } = await guildWithMembers(server.graphqlUrl, 0, true);
    const stranger = await user();
    const { guild } = await stranger.ok(GUILD, { id: guildId });
    expect(guild).toMatchObject({ id: guildId, isPublic: true, memberCount: 1, channels: [] });
    expect((await stranger.ok(NODE, { id: guildId })).node).toEqual({ id: guildId, name: 'Guild' });
    expect(await visibleGuildIds(stranger)).toContain(guildId);
    await stranger.fails('NOT_FOUND', CHANNEL, { id: generalId });
  });

  it('guilds lists joined guilds and public ones, with their count', async () => {
    const viewer = await user();
    const own = await createGuild(viewer, 'Mine');
    const joined = await guildWithMembers(server.graphqlUrl, 0);
    await invite(joined.owner, joined.guildId, viewer);
    const foreignPrivate = await guildWithMembers(server.graphqlUrl, 0);
    const foreignPublic = await guildWithMembers(server.graphqlUrl, 0, true);

    const { guilds } = await viewer.ok<{ guilds: any }>(GUILD_IDS);
    const ids = guilds.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(ids).toEqual(expect.arrayContaining([own.guildId, joined.guildId, foreignPublic.guildId]));
    expect(ids).not.toContain(foreignPrivate.guildId);
    expect(guilds.totalCount).toBe(ids.length);
  });

  it('guilds pages with first/after without repeating or skipping a guild', async () => {
    const viewer = await user();
    for (const name of ['A', 'B', 'C']) await createGuild(viewer, name);
    const all = await visibleGuildIds(viewer);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { guilds }: { guilds: any } = await viewer.ok(
        `query($after: String) { guilds(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      seen.push(...guilds.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!guilds.pageInfo.hasNextPage) break;
      after = guilds.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
  });

  it('refuses a malformed id with BAD_USER_INPUT and an id of another type with NOT_FOUND', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    await failsOnField(owner, 'id', GUILD, { id: 'not a global id' });
    await failsOnField(owner, 'id', GUILD, { id: Buffer.from('Guild:123').toString('base64') });
    await owner.fails('NOT_FOUND', GUILD, { id: generalId });
    await owner.fails('NOT_FOUND', GUILD, { id: unknownId('Guild') });
  });
});

describe('invites and joining', () => {
  it('a member joins by invite code and sees the guild and its channels', async () => {
    const { owner, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const joiner = await user();
    const created = await createInvite(owner, guildId);
    expect(created).toMatchObject({ uses: 0, maxUses: null, expiresAt: null });

    const { joinGuild } = await joiner.ok(JOIN, { c: created.code });
    expect(joinGuild).toEqual({ id: guildId, memberCount: 2 });
    expect((await joiner.ok(GUILD, { id: guildId })).guild.channels).toEqual([{ id: generalId, name: 'general' }]);
    expect(await visibleGuildIds(joiner)).toContain(guildId);
  });

  it('joining again with a code changes nothing', async () => {
    const { owner, guildId } = await guildWithMembers(server.graphqlUrl, 0);
    const joiner = await user();
    const { code } = await createInvite(owner, guildId);
    await joiner.ok(JOIN, { c: code });
    expect((await joiner.ok(JOIN, { c: code })).joinGuild).toEqual({ id: guildId, memberCount: 2 });
  });

  it.each(['nosuchcode', 'nul\u0000code'])('refuses the unknown code %j with NOT_FOUND', async (code) => {
    await (await user()).fails('NOT_FOUND', JOIN, { c: code });
  });

  it('a plain member may invite too (@everyone has CREATE_INVITE), a non-member may not', async () => {
    const { members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    const newcomer = await user();
    await invite(members[0]!, guildId, newcomer);
    await (await user()).fails('NOT_FOUND', CREATE_INVITE, { g: guildId });
  });

  it('an invite with maxUses stops working once used up', async () => {
    const { owner, guildId } = await guildWithMembers(server.graphqlUrl, 0);
    const { code, maxUses } = await createInvite(owner, guildId, { maxUses: 1 });
    expect(maxUses).toBe(1);
    await (await user()).ok(JOIN, { c: code });
    await failsOnField(await user(), 'inviteCode', JOIN, { c: code });
  });

  it('a single-use invite admits exactly one of two people joining at the same moment', async () => {
    const { owner, guildId } = await guildWithMembers(server.graphqlUrl, 0);
    const { code } = await createInvite(owner, guildId, { maxUses: 1 });
    const joiners = [await user(), await user()];
    const results = await Promise.all(joiners.map((j) => j.request(JOIN, { c: code })));
    expect(results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort()).toEqual(['BAD_USER_INPUT', 'OK']);
    expect((await owner.ok(GUILD, { id: guildId })).guild.memberCount).toBe(2);
  });

  it('an invite stops working once it has expired', async () => {
    const { owner, guildId } = await guildWithMembers(server.graphqlUrl, 0);
    const { code, expiresAt } = await createInvite(owner, guildId, { expires: 1 });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt!) - Date.now()) + 1));
    const joiner = await user();
    await failsOnField(joiner, 'inviteCode', JOIN, { c: code });
    await joiner.fails('NOT_FOUND', GUILD, { id: guildId });
  });

  it('refuses maxUses and expiresInSeconds below 1', async () => {
    const { owner, guildId } = await guildWithMembers(server.graphqlUrl, 0);
    await failsOnField(owner, 'maxUses', CREATE_INVITE, { g: guildId, maxUses: 0 });
    await failsOnField(owner, 'expiresInSeconds', CREATE_INVITE, { g: guildId, expires: 0 });
    await failsOnField(owner, 'guildId', CREATE_INVITE, { g: 'garbage' });
  });
});

describe('leaveGuild', () => {
  it('a member leaves and loses access to the private guild and its channels', async () => {
    const { owner, members, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 1);
    const member = members[0]!;
    expect(await member.ok(LEAVE, { g: guildId })).toEqual({ leaveGuild: guildId });
    await member.fails('NOT_FOUND', GUILD, { id: guildId });
    await member.fails('NOT_FOUND', CHANNEL, { id: generalId });
    expect(await visibleGuildIds(member)).not.toContain(guildId);
    expect((await owner.ok(GUILD, { id: guildId })).guild.memberCount).toBe(1);
  });

  it('the owner cannot leave (FORBIDDEN) and stays a member', async () => {
    const { owner, guildId } = await guildWithMembers(server.graphqlUrl, 0);
    await owner.fails('FORBIDDEN', LEAVE, { g: guildId });
    expect((await owner.ok(GUILD, { id: guildId })).guild.memberCount).toBe(1);
  });

  it('leaving a guild one is not in is NOT_FOUND; a malformed id names guildId', async () => {
    const { guildId } = await guildWithMembers(server.graphqlUrl, 0, true);
    const stranger = await user();
    await stranger.fails('NOT_FOUND', LEAVE, { g: guildId });
    await failsOnField(stranger, 'guildId', LEAVE, { g: 'garbage' });
  });
});

describe('deleteGuild', () => {
  it('only the owner deletes: a member gets FORBIDDEN, a non-member NOT_FOUND', async () => {
    const { members, guildId } = await guildWithMembers(server.graphqlUrl, 1, true);
    await members[0]!.fails('FORBIDDEN', DELETE_GUILD, { id: guildId });
    await (await user()).fails('NOT_FOUND', DELETE_GUILD, { id: guildId });
    expect((await members[0]!.ok(GUILD, { id: guildId })).guild.id).toBe(guildId);
  });

  it('the owner deletes the guild with its channels and messages; it is gone for everyone', async () => {
    const { owner, members, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 1);
    const messageId = await send(members[0]!, generalId, 'soon gone');
    expect(await owner.ok(DELETE_GUILD, { id: guildId })).toEqual({ deleteGuild: guildId });
    for (const client of [owner, members[0]!]) {
      await client.fails('NOT_FOUND', GUILD, { id: guildId });
      await client.fails('NOT_FOUND', CHANNEL, { id: generalId });
      await client.fails('NOT_FOUND', `query($id: ID!) { message(id: $id) { id } }`, { id: messageId });
      expect(await visibleGuildIds(client)).not.toContain(guildId);
    }
    await owner.fails('NOT_FOUND', DELETE_GUILD, { id: guildId });
  });

  it('refuses a malformed id with BAD_USER_INPUT', async () => {
    await failsOnField(await user(), 'id', DELETE_GUILD, { id: '%%%' });
  });
});
