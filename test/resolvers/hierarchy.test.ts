// The role hierarchy on every operation that acts on a member, as a matrix: who acts
// (owner, admin, moderator with MANAGE_ROLES/KICK/BAN, plain member, stranger) × whom
// (the owner, a member ranked like an admin, like a moderator, below the moderator, oneself)
// × what (assignRole, unassignRole, kickMember, banMember). And a probe never tells a user
// who is not in the guild from an id that names nobody.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createGuild, invite, signUp, unknownId } from '../support/client.js';

let server: TestServer;
let guildId: string;
const actors = {} as Record<ActorName, Client>;
const roleIds = {} as Record<'admin' | 'mod' | 'tag', string>;
/** members who stay put: the targets of every refused or non-destructive cell */
const standing = {} as Record<'adminRank' | 'modRank' | 'below', Client>;

type ActorName = 'owner' | 'admin' | 'mod' | 'plain' | 'stranger';
type TargetName = 'owner' | 'adminRank' | 'modRank' | 'below' | 'self';
type Op = 'assignRole' | 'unassignRole' | 'kickMember' | 'banMember';

const ASSIGN = `mutation($g: ID!, $u: ID!, $r: ID!) { assignRole(guildId: $g, userId: $u, roleId: $r) { user { id } } }`;
const UNASSIGN = `mutation($g: ID!, $u: ID!, $r: ID!) { unassignRole(guildId: $g, userId: $u, roleId: $r) { user { id } } }`;
const KICK = `mutation($g: ID!, $u: ID!) { kickMember(guildId: $g, userId: $u) }`;
const BAN = `mutation($g: ID!, $u: ID!) { banMember(guildId: $g, userId: $u) }`;
const UNBAN = `mutation($g: ID!, $u: ID!) { unbanMember(guildId: $g, userId: $u) }`;
const TRANSFER = `mutation($g: ID!, $u: ID!) { transferGuildOwnership(guildId: $g, userId: $u) { id } }`;
const CREATE_ROLE = `mutation($input: CreateRoleInput!) { createRole(input: $input) { id position } }`;
const ROLES = `query($g: ID!) { guild(id: $g) { roles { id name position } } }`;

async function member(roles: (keyof typeof roleIds)[]): Promise<Client> {
  const client = await signUp(server.graphqlUrl);
  await invite(actors.owner, guildId, client);
  for (const role of roles) await actors.owner.ok(ASSIGN, { g: guildId, u: client.userId, r: roleIds[role] });
  return client;
}

const RANK_ROLES: Record<Exclude<TargetName, 'owner' | 'self'>, (keyof typeof roleIds)[]> = {
  adminRank: ['admin', 'tag'],
  modRank: ['mod', 'tag'],
  below: ['tag'],
};

beforeAll(async () => {
  server = await startTestServer();
  actors.owner = await signUp(server.graphqlUrl);
  ({ guildId } = await createGuild(actors.owner, 'Ranks'));
  // each new role starts at position 1 and lifts the others: Admin 3, Moderator 2, Tag 1
  roleIds.admin = (await actors.owner.ok<any>(CREATE_ROLE, { input: { guildId, name: 'Admin', permissions: ['ADMINISTRATOR'] } }))
    .createRole.id;
  roleIds.mod = (
    await actors.owner.ok<any>(CREATE_ROLE, {
      input: { guildId, name: 'Moderator', permissions: ['MANAGE_ROLES', 'KICK_MEMBERS', 'BAN_MEMBERS'] },
    })
  ).createRole.id;
  roleIds.tag = (await actors.owner.ok<any>(CREATE_ROLE, { input: { guildId, name: 'Tag', permissions: [] } })).createRole.id;
  const { guild } = await actors.owner.ok<any>(ROLES, { g: guildId });
  expect(guild.roles.map((r: any) => [r.name, r.position])).toEqual([
    ['Admin', 3],
    ['Moderator', 2],
    ['Tag', 1],
    ['@everyone', 0],
  ]);
  actors.admin = await member(['admin', 'tag']);
  actors.mod = await member(['mod', 'tag']);
  actors.plain = await member(['tag']);
  actors.stranger = await signUp(server.graphqlUrl);
  standing.adminRank = await member(RANK_ROLES.adminRank);
  standing.modRank = await member(RANK_ROLES.modRank);
  standing.below = await member(RANK_ROLES.below);
});
afterAll(() => server?.stop());

const OK = 'OK';
/** What each actor gets on each target, for every operation unless `self` says otherwise. */
const EXPECTED: Record<ActorName, Record<TargetName, string>> = {
  owner: { owner: 'self', adminRank: OK, modRank: OK, below: OK, self: 'self' },
  admin: { owner: 'FORBIDDEN', adminRank: 'FORBIDDEN', modRank: OK, below: OK, self: 'self' },
  mod: { owner: 'FORBIDDEN', adminRank: 'FORBIDDEN', modRank: 'FORBIDDEN', below: OK, self: 'self' },
  plain: { owner: 'FORBIDDEN', adminRank: 'FORBIDDEN', modRank: 'FORBIDDEN', below: 'FORBIDDEN', self: 'FORBIDDEN' },
  stranger: { owner: 'NOT_FOUND', adminRank: 'NOT_FOUND', modRank: 'NOT_FOUND', below: 'NOT_FOUND', self: 'NOT_FOUND' },
};
/** Acting on oneself: your own lower roles you may take on and off; kick or ban yourself, never. */
const SELF: Record<Op, string> = { assignRole: OK, unassignRole: OK, kickMember: 'BAD_USER_INPUT', banMember: 'BAD_USER_INPUT' };

const cells = (Object.keys(EXPECTED) as ActorName[]).flatMap((actor) =>
  (Object.keys(EXPECTED[actor]) as TargetName[]).flatMap((target) =>
    (['assignRole', 'unassignRole', 'kickMember', 'banMember'] as Op[]).map((op) => {
      const cell = EXPECTED[actor][target];
      return { actor, target, op, expected: cell === 'self' ? SELF[op] : cell };
    }),
  ),
);

const codeOf = (res: { errors?: { extensions?: Record<string, any> }[] }) => res.errors?.[0]?.extensions?.code ?? OK;

describe('role hierarchy matrix', () => {
  it.each(cells)('$actor → $target: $op is $expected', async ({ actor, target, op, expected }) => {
    const by = actors[actor];
    const destructive = expected === OK && (op === 'kickMember' || op === 'banMember');
    const whom =
      target === 'self' || (target === 'owner' && actor === 'owner')
        ? by
        : target === 'owner'
          ? actors.owner
          : destructive
            ? await member(RANK_ROLES[target])
            : standing[target];
    const vars = { g: guildId, u: whom.userId, r: roleIds.tag };
    if (op === 'assignRole' || op === 'unassignRole') {
      // every target but the owner holds Tag: take it off and put it back, or be refused both times
      const first = await by.request(op === 'unassignRole' ? UNASSIGN : ASSIGN, vars);
      const second = await by.request(op === 'unassignRole' ? ASSIGN : UNASSIGN, vars);
      expect(codeOf(first), JSON.stringify(first.errors)).toBe(expected);
      if (expected === OK && op === 'unassignRole') expect(codeOf(second)).toBe(OK);
      if (expected === OK && op === 'assignRole' && whom !== actors.owner) {
        // the assign was idempotent and the unassign took it off: give it back
        await actors.owner.ok(ASSIGN, vars);
      }
      if (expected !== OK) expect(codeOf(second)).toBe(expected);
      return;
    }
    const res = await by.request(op === 'kickMember' ? KICK : BAN, vars);
    expect(codeOf(res), JSON.stringify(res.errors)).toBe(expected);
    if (op === 'banMember' && expected === OK) await actors.owner.ok(UNBAN, vars);
  });

  it('nobody hands out a role at or above their own highest one', async () => {
    const target = standing.below;
    for (const [by, role] of [
      [actors.mod, roleIds.mod],
      [actors.mod, roleIds.admin],
      [actors.admin, roleIds.admin],
    ] as const) {
      const refused = await by.fails('FORBIDDEN', ASSIGN, { g: guildId, u: target.userId, r: role });
      expect(refused.message).toMatch(/ranked below your highest role/);
    }
    // nor takes one away: a moderator cannot unassign the Admin role, even from a lower member
    await actors.mod.fails('FORBIDDEN', UNASSIGN, { g: guildId, u: target.userId, r: roleIds.admin });
  });

  it('a moderator cannot touch the roles of the owner, even a role the moderator could grant', async () => {
    const refused = await actors.mod.fails('FORBIDDEN', ASSIGN, { g: guildId, u: actors.owner.userId, r: roleIds.tag });
    expect(refused.message).toMatch(/owner/);
    await actors.admin.fails('FORBIDDEN', ASSIGN, { g: guildId, u: actors.owner.userId, r: roleIds.tag });
    await actors.admin.fails('FORBIDDEN', TRANSFER, { g: guildId, u: actors.admin.userId });
  });
});

describe('probing user ids', () => {
  /** A user who exists but is not in the guild (they share another guild with the moderator). */
  let outsider: Client;
  beforeAll(async () => {
    outsider = await signUp(server.graphqlUrl);
    const { guildId: theirs } = await createGuild(outsider, 'Elsewhere');
    await invite(outsider, theirs, actors.mod);
  });

  const strangerOf = async () => signUp(server.graphqlUrl);

  it.each([
    ['kickMember', KICK, 'Member not found.'],
    ['assignRole', ASSIGN, 'Member not found.'],
    ['unassignRole', UNASSIGN, 'Member not found.'],
    ['transferGuildOwnership', TRANSFER, 'Member not found.'],
  ])('%s: a real user of another guild and a made-up id get the same answer', async (_name, query, message) => {
    for (const by of [actors.owner, actors.mod]) {
      if (query === TRANSFER && by !== actors.owner) continue;
      const real = await by.fails('NOT_FOUND', query, { g: guildId, u: outsider.userId, r: roleIds.tag });
      const stranger = await by.fails('NOT_FOUND', query, { g: guildId, u: (await strangerOf()).userId, r: roleIds.tag });
      const madeUp = await by.fails('NOT_FOUND', query, { g: guildId, u: unknownId('User'), r: roleIds.tag });
      expect(real).toEqual(madeUp);
      expect(stranger).toEqual(madeUp);
      expect(madeUp.message).toBe(message);
    }
  });

  it('banMember: a user the moderator cannot see and a made-up id get the same answer', async () => {
    const invisible = await strangerOf();
    const real = await actors.mod.fails('NOT_FOUND', BAN, { g: guildId, u: invisible.userId });
    const madeUp = await actors.mod.fails('NOT_FOUND', BAN, { g: guildId, u: unknownId('User') });
    expect(real).toEqual(madeUp);
    expect(madeUp.message).toBe('User not found.');
    // someone the moderator shares a guild with can be banned before they ever join
    await actors.mod.ok(BAN, { g: guildId, u: outsider.userId });
    const { createInvite } = await actors.owner.ok<any>(`mutation($g: ID!) { createInvite(guildId: $g) { code } }`, { g: guildId });
    await outsider.fails('FORBIDDEN', `mutation($c: String!) { joinGuild(inviteCode: $c) { id } }`, { c: createInvite.code });
    // and re-banning a banned user who shares nothing with you any more updates the ban
    await actors.owner.ok(BAN, { g: guildId, u: outsider.userId });
    await actors.owner.ok(UNBAN, { g: guildId, u: outsider.userId });
  });

  it('a stranger to the guild learns nothing either way', async () => {
    for (const query of [KICK, BAN, ASSIGN, UNASSIGN, UNBAN]) {
      const real = await actors.stranger.fails('NOT_FOUND', query, { g: guildId, u: actors.mod.userId, r: roleIds.tag });
      const madeUp = await actors.stranger.fails('NOT_FOUND', query, { g: guildId, u: unknownId('User'), r: roleIds.tag });
      expect(real).toEqual(madeUp);
    }
  });
});
