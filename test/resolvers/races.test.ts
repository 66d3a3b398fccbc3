// Racing clients: the same call fired ten times at once, as real concurrent HTTP requests.
// Each answer is one a single call could give (idempotent success, or the refusal a later
// call gets), never INTERNAL_SERVER_ERROR, on PGlite and on PostgreSQL, where the database
// runs them truly in parallel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, type GraphQLResponse, Client as GraphQLClient, createGuild, guildWithMembers, invite, send, signUp, uniqueName } from '../support/client.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const RACERS = 10;
const JOIN = `mutation($c: String!) { joinGuild(inviteCode: $c) { id } }`;
const CREATE_INVITE = `mutation($g: ID!, $max: Int) { createInvite(guildId: $g, maxUses: $max) { code } }`;
const INVITE_USES = `query($g: ID!) { guild(id: $g) { memberCount } }`;
const CREATE_ROLE = `mutation($input: CreateRoleInput!) { createRole(input: $input) { id position } }`;
const ROLES_OF = `query($g: ID!) { guild(id: $g) { roles { name position } members(first: 100) { edges { node { user { id } roles { id } } } } } }`;

/** Fires `run` RACERS times at once; every answer, in order. */
const race = (run: (i: number) => Promise<GraphQLResponse>) => Promise.all(Array.from({ length: RACERS }, (_, i) => run(i)));

const codes = (answers: GraphQLResponse[]) => answers.map((a) => a.errors?.[0]?.extensions?.code ?? 'OK');

/** Every answer is a success or one of the allowed refusals; returns how many succeeded. */
function tally(answers: GraphQLResponse[], allowed: string[] = []) {
  for (const answer of answers) {
    if (answer.errors) expect(allowed, JSON.stringify(answer.errors)).toContain(answer.errors[0]?.extensions?.code);
  }
  return answers.filter((a) => !a.errors).length;
}

async function newInvite(owner: Client, guildId: string, maxUses?: number) {
  return (await owner.ok<{ createInvite: { code: string } }>(CREATE_INVITE, { g: guildId, max: maxUses })).createInvite.code;
}

async function memberCount(viewer: Client, guildId: string): Promise<number> {
  return (await viewer.ok<{ guild: { memberCount: number } }>(INVITE_USES, { g: guildId })).guild.memberCount;
}

describe('joining', () => {
  it('joinGuild ×10 by one user with one invite: all succeed, one membership, one use', async () => {
    const owner = await signUp(server.graphqlUrl);
    const joiner = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(owner);
    const code = await newInvite(owner, guildId, 2);
    const answers = await race(() => joiner.request(JOIN, { c: code }));
    expect(codes(answers)).toEqual(Array(RACERS).fill('OK'));
    expect(answers.every((a) => a.data?.joinGuild.id === guildId)).toBe(true);
    expect(await memberCount(owner, guildId)).toBe(2);
    // the racing joins took one use: another user still gets in, a third does not
    await (await signUp(server.graphqlUrl)).ok(JOIN, { c: code });
    await (await signUp(server.graphqlUrl)).fails('BAD_USER_INPUT', JOIN, { c: code });
  });

  it('an invite with maxUses 1 admits exactly one of ten racing users', async () => {
    const owner = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(owner);
    const code = await newInvite(owner, guildId, 1);
    const joiners = await Promise.all(Array.from({ length: RACERS }, () => signUp(server.graphqlUrl)));
    const answers = await race((i) => joiners[i]!.request(JOIN, { c: code }));
    expect(tally(answers, ['BAD_USER_INPUT'])).toBe(1);
    for (const a of answers.filter((a) => a.errors)) expect(a.errors![0]!.extensions?.field).toBe('inviteCode');
    expect(await memberCount(owner, guildId)).toBe(2);
  });

  it('joinPublicGuild ×10: all succeed, one membership', async () => {
    const owner = await signUp(server.graphqlUrl);
    const joiner = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(owner, 'Open', true);
    const answers = await race(() => joiner.request(`mutation($g: ID!) { joinPublicGuild(guildId: $g) { id } }`, { g: guildId }));
    expect(codes(answers)).toEqual(Array(RACERS).fill('OK'));
    expect(await memberCount(owner, guildId)).toBe(2);
  });

  it('addGuildMember ×10: all succeed with the one membership', async () => {
    const { owner, members } = await guildWithMembers(server.graphqlUrl, 1);
    const { guildId } = await createGuild(owner, 'Picked');
    const answers = await race(() =>
      owner.request(`mutation($g: ID!, $u: ID!) { addGuildMember(guildId: $g, userId: $u) { joinedAt } }`, {
        g: guildId,
        u: members[0]!.userId,
      }),
    );
    expect(codes(answers)).toEqual(Array(RACERS).fill('OK'));
    expect(new Set(answers.map((a) => a.data?.addGuildMember.joinedAt)).size).toBe(1);
    expect(await memberCount(owner, guildId)).toBe(2);
  });

  it('leaveGuild ×10: all succeed', async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    const answers = await race(() => members[0]!.request(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId }));
    expect(tally(answers, ['NOT_FOUND'])).toBeGreaterThanOrEqual(1);
    expect(await memberCount(owner, guildId)).toBe(1);
  });
});

describe('roles', () => {
  it('assignRole ×10 and unassignRole ×10: all succeed, the role held once, then not at all', async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    const role = (await owner.ok<{ createRole: { id: string } }>(CREATE_ROLE, { input: { guildId, name: 'Racer', permissions: [] } }))
      .createRole;
    const vars = { g: guildId, u: members[0]!.userId, r: role.id };
    const assigned = await race(() =>
      owner.request(`mutation($g: ID!, $u: ID!, $r: ID!) { assignRole(guildId: $g, userId: $u, roleId: $r) { roles { id } } }`, vars),
    );
    expect(codes(assigned)).toEqual(Array(RACERS).fill('OK'));
    for (const a of assigned) expect(a.data?.assignRole.roles).toEqual([{ id: role.id }]);
    const unassigned = await race(() =>
      owner.request(`mutation($g: ID!, $u: ID!, $r: ID!) { unassignRole(guildId: $g, userId: $u, roleId: $r) { roles { id } } }`, vars),
    );
    expect(codes(unassigned)).toEqual(Array(RACERS).fill('OK'));
    for (const a of unassigned) expect(a.data?.unassignRole.roles).toEqual([]);
  });

  it('createRole ×10: ten roles on ten distinct positions above @everyone', async () => {
    const owner = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(owner);
    const answers = await race((i) => owner.request(CREATE_ROLE, { input: { guildId, name: `r${i}`, permissions: [] } }));
    expect(codes(answers)).toEqual(Array(RACERS).fill('OK'));
    const { guild } = await owner.ok<{ guild: any }>(ROLES_OF, { g: guildId });
    expect(guild.roles.map((r: any) => r.position)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });
});

describe('moderation', () => {
  it('banMember ×10: all succeed, one ban, the member removed once; unbanMember ×10: one succeeds, the rest find no ban', async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    const vars = { g: guildId, u: members[0]!.userId };
    const bans = await race(() => owner.request(`mutation($g: ID!, $u: ID!) { banMember(guildId: $g, userId: $u, reason: "race") }`, vars));
    expect(codes(bans)).toEqual(Array(RACERS).fill('OK'));
    expect(await memberCount(owner, guildId)).toBe(1);
    const unbans = await race(() => owner.request(`mutation($g: ID!, $u: ID!) { unbanMember(guildId: $g, userId: $u) }`, vars));
    expect(tally(unbans, ['NOT_FOUND'])).toBe(1);
    for (const u of unbans.filter((a) => a.errors)) expect(u.errors![0]!.message).toBe('Ban not found.');
  });

  it('a ban racing the banned user’s join always ends with them out', async () => {
    const owner = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(owner, 'Bouncer', true);
    const { guildId: shared } = await createGuild(owner, 'Shared');
    const JOIN_PUBLIC = `mutation($g: ID!) { joinPublicGuild(guildId: $g) { id } }`;
    for (let round = 0; round < 5; round++) {
      const target = await signUp(server.graphqlUrl);
      await invite(owner, shared, target); // so the owner may ban them before they join
      const [joined, banned] = await Promise.all([
        target.request(JOIN_PUBLIC, { g: guildId }),
        owner.request(`mutation($g: ID!, $u: ID!) { banMember(guildId: $g, userId: $u) }`, { g: guildId, u: target.userId }),
      ]);
      expect(['OK', 'FORBIDDEN']).toContain(codes([joined])[0]);
      expect(codes([banned])).toEqual(['OK']);
      expect(await memberCount(owner, guildId)).toBe(1);
    }
  });

  it('kickMember ×10: one kicks, the others find no member (as a later call would)', async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    const kicks = await race(() =>
      owner.request(`mutation($g: ID!, $u: ID!) { kickMember(guildId: $g, userId: $u) }`, { g: guildId, u: members[0]!.userId }),
    );
    expect(tally(kicks, ['NOT_FOUND'])).toBeGreaterThanOrEqual(1);
    for (const k of kicks.filter((a) => a.errors)) expect(k.errors![0]!.message).toBe('Member not found.');
    expect(await memberCount(owner, guildId)).toBe(1);
  });

  it('transferGuildOwnership ×10 to ten members: exactly one becomes owner, the others are refused', async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, RACERS);
    const answers = await race((i) =>
      owner.request(`mutation($g: ID!, $u: ID!) { transferGuildOwnership(guildId: $g, userId: $u) { owner { id } } }`, {
        g: guildId,
        u: members[i]!.userId,
      }),
    );
    expect(tally(answers, ['FORBIDDEN'])).toBe(1);
    const winner = answers.find((a) => !a.errors)!.data!.transferGuildOwnership.owner.id;
    const { guild } = await owner.ok<{ guild: any }>(`query($g: ID!) { guild(id: $g) { owner { id } } }`, { g: guildId });
    expect(guild.owner.id).toBe(winner);
    expect(members.map((m) => m.userId)).toContain(winner);
  });
});

describe('messages and accounts', () => {
  it('addReaction ×10 with one emoji: all succeed, counted once', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const messageId = await send(owner, generalId, 'react to me');
    const answers = await race(() =>
      owner.request(`mutation($m: ID!) { addReaction(messageId: $m, emoji: "🏁") { reactions { emoji count } } }`, { m: messageId }),
    );
    expect(codes(answers)).toEqual(Array(RACERS).fill('OK'));
    for (const a of answers) expect(a.data?.addReaction.reactions).toEqual([{ emoji: '🏁', count: 1 }]);
  });

  it('markChannelRead ×10 with ten different messages: all succeed and the newest wins', async () => {
    const { owner, members, generalId } = await guildWithMembers(server.graphqlUrl, 1);
    const ids: string[] = [];
    for (let i = 0; i < RACERS; i++) ids.push(await send(owner, generalId, `m${i}`));
    const reader = members[0]!;
    const answers = await race((i) =>
      reader.request(`mutation($c: ID!, $m: ID!) { markChannelRead(channelId: $c, messageId: $m) { id } }`, { c: generalId, m: ids[i] }),
    );
    expect(codes(answers)).toEqual(Array(RACERS).fill('OK'));
    const { channel } = await reader.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { unreadCount } }`, { c: generalId });
    expect(channel.unreadCount).toBe(0);
  });

  it('register ×10 with one username: one account, the others CONFLICT on username', async () => {
    const name = uniqueName('racer');
    const answers = await race((i) =>
      new GraphQLClient(server.graphqlUrl).request(
        `mutation($input: RegisterInput!) { register(input: $input) { user { id } } }`,
        { input: { username: name, email: `${name}.${i}@example.com`, password: 'correct horse battery' } },
      ),
    );
    expect(tally(answers, ['CONFLICT'])).toBe(1);
    for (const a of answers.filter((a) => a.errors)) expect(a.errors![0]!.extensions?.field).toBe('username');
  });
});
