import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, invite, localId, send, signUp, unknownId } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

let server: TestServer;
let owner: Client;
let mod: Client;
let pleb: Client;
let guildId: string;
let generalId: string;

const CREATE_ROLE = `mutation($input: CreateRoleInput!) { createRole(input: $input) { id name position permissions } }`;
const ASSIGN = `mutation($g: ID!, $u: ID!, $r: ID!) { assignRole(guildId: $g, userId: $u, roleId: $r) { user { username } roles { name } } }`;
const PERMS = `query($g: ID!) { guild(id: $g) { viewerPermissions } }`;

async function createRole(by: Client, name: string, permissions: string[]) {
  return (await by.ok<{ createRole: any }>(CREATE_ROLE, { input: { guildId, name, permissions } })).createRole;
}

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUp(server.graphqlUrl);
  mod = await signUp(server.graphqlUrl);
  pleb = await signUp(server.graphqlUrl);
  ({ guildId, generalId } = await createGuild(owner, 'Managed'));
  await invite(owner, guildId, mod);
  await invite(owner, guildId, pleb);
});
afterAll(() => server?.stop());

describe('roles and permissions', () => {
  it('gives @everyone the default permissions and the owner all of them', async () => {
    const everyone = (await pleb.ok<{ guild: any }>(PERMS, { g: guildId })).guild.viewerPermissions;
    expect(everyone.sort()).toEqual(['ADD_REACTIONS', 'ATTACH_FILES', 'CONNECT', 'CREATE_INVITE', 'SEND_MESSAGES', 'SPEAK', 'VIEW_CHANNEL']);
    const all = (await owner.ok<{ guild: any }>(PERMS, { g: guildId })).guild.viewerPermissions;
    expect(all).toContain('ADMINISTRATOR');
    expect(all).toContain('MANAGE_ROLES');
  });

  it('lets a granted role act, and never grant what its granter lacks', async () => {
    const moderator = await createRole(owner, 'Moderator', ['MANAGE_ROLES', 'MANAGE_MESSAGES', 'KICK_MEMBERS']);
    expect(moderator.position).toBe(1);
    const assigned = (await owner.ok<{ assignRole: any }>(ASSIGN, { g: guildId, u: mod.userId, r: moderator.id })).assignRole;
    expect(assigned.roles).toEqual([{ name: 'Moderator' }]);
    expect((await mod.ok<{ guild: any }>(PERMS, { g: guildId })).guild.viewerPermissions).toContain('KICK_MEMBERS');

    // the moderator may delete others' messages now
    const id = await send(pleb, generalId, 'spam');
    await mod.ok(`mutation($id: ID!) { deleteMessage(id: $id) }`, { id });

    // but cannot mint a role with BAN_MEMBERS, which they lack
    const refused = await mod.fails('FORBIDDEN', CREATE_ROLE, { input: { guildId, name: 'Bans', permissions: ['BAN_MEMBERS'] } });
    expect(refused.message).toMatch(/cannot grant/);
    // nor hand out a role ranked at or above their own
    const lower = await createRole(mod, 'Helper', ['MANAGE_MESSAGES']);
    const roles = (await owner.ok<{ guild: any }>(`query($g: ID!) { guild(id: $g) { roles { name position } } }`, { g: guildId }))
      .guild.roles;
    expect(roles.map((r: any) => r.name)).toEqual(['Moderator', 'Helper', '@everyone']);
    await mod.fails('FORBIDDEN', ASSIGN, { g: guildId, u: pleb.userId, r: moderator.id });
    await mod.ok(ASSIGN, { g: guildId, u: pleb.userId, r: lower.id });
  });

  it('refuses role management to members without MANAGE_ROLES', async () => {
    await pleb.fails('FORBIDDEN', CREATE_ROLE, { input: { guildId, name: 'Mine', permissions: [] } });
  });
});

describe('moderation', () => {
  it('kicks with KICK_MEMBERS, cutting the kicked member’s open subscriptions', async () => {
    const victim = await signUp(server.graphqlUrl);
    await invite(owner, guildId, victim);
    const ws = wsClient(server.wsUrl, victim.token);
    const sub = subscribe(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: generalId });
    await waitForListener(server, 'messageAdded', localId(generalId));
    await pleb.fails('FORBIDDEN', `mutation($g: ID!, $u: ID!) { kickMember(guildId: $g, userId: $u) }`, {
      g: guildId,
      u: victim.userId,
    });
    const { kickMember } = await mod.ok<{ kickMember: string }>(
      `mutation($g: ID!, $u: ID!) { kickMember(guildId: $g, userId: $u) }`,
      { g: guildId, u: victim.userId },
    );
    expect(kickMember).toBe(victim.userId);
    await sub.completed;
    await victim.fails('NOT_FOUND', `query($c: ID!) { channel(id: $c) { id } }`, { c: generalId });
    await ws.dispose();
  });

  it('nobody kicks the owner or someone ranked at or above them', async () => {
    await mod.fails('FORBIDDEN', `mutation($g: ID!, $u: ID!) { kickMember(guildId: $g, userId: $u) }`, {
      g: guildId,
      u: owner.userId,
    });
  });

  it('bans keep a user out until unbanned', async () => {
    const troll = await signUp(server.graphqlUrl);
    await invite(owner, guildId, troll);
    const ws = wsClient(server.wsUrl, troll.token);
    const sub = subscribe(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: generalId });
    await waitForListener(server, 'messageAdded', localId(generalId));
    await owner.ok(`mutation($g: ID!, $u: ID!) { banMember(guildId: $g, userId: $u, reason: "trolling") }`, {
      g: guildId,
      u: troll.userId,
    });
    await sub.completed;
    await ws.dispose();
    const { createInvite } = await owner.ok<{ createInvite: any }>(`mutation($g: ID!) { createInvite(guildId: $g) { code } }`, {
      g: guildId,
    });
    await troll.fails('FORBIDDEN', `mutation($c: String!) { joinGuild(inviteCode: $c) { id } }`, { c: createInvite.code });
    await mod.fails('FORBIDDEN', `mutation($g: ID!, $u: ID!) { unbanMember(guildId: $g, userId: $u) }`, {
      g: guildId,
      u: troll.userId,
    });
    await owner.ok(`mutation($g: ID!, $u: ID!) { unbanMember(guildId: $g, userId: $u) }`, { g: guildId, u: troll.userId });
    await troll.ok(`mutation($c: String!) { joinGuild(inviteCode: $c) { id } }`, { c: createInvite.code });
  });
});

describe('guild and channel management', () => {
  it('updates settings with MANAGE_GUILD and lets anyone join a public guild', async () => {
    await pleb.fails('FORBIDDEN', `mutation($g: ID!) { updateGuild(id: $g, input: { name: "Mine" }) { id } }`, { g: guildId });
    const stranger = await signUp(server.graphqlUrl);
    await stranger.fails('NOT_FOUND', `mutation($g: ID!) { joinPublicGuild(guildId: $g) { id } }`, { g: guildId });
    const { updateGuild } = await owner.ok<{ updateGuild: any }>(
      `mutation($g: ID!) { updateGuild(id: $g, input: { name: "Open house", isPublic: true }) { name isPublic } }`,
      { g: guildId },
    );
    expect(updateGuild).toEqual({ name: 'Open house', isPublic: true });
    await owner.fails('BAD_USER_INPUT', `mutation($g: ID!) { updateGuild(id: $g, input: { name: "  " }) { id } }`, { g: guildId });
    const { joinPublicGuild } = await stranger.ok<{ joinPublicGuild: any }>(
      `mutation($g: ID!) { joinPublicGuild(guildId: $g) { memberCount } }`,
      { g: guildId },
    );
    expect(joinPublicGuild.memberCount).toBeGreaterThan(3);
  });

  it('adds a member directly with MANAGE_GUILD: someone the manager shares a guild with', async () => {
    const picked = await signUp(server.graphqlUrl);
    const { guildId: elsewhere } = await createGuild(picked, 'Elsewhere');
    await invite(picked, elsewhere, owner);
    const ADD = `mutation($g: ID!, $u: ID!) { addGuildMember(guildId: $g, userId: $u) { user { username } guild { id } } }`;
    await pleb.fails('FORBIDDEN', ADD, { g: guildId, u: picked.userId });
    const { addGuildMember } = await owner.ok<{ addGuildMember: any }>(ADD, { g: guildId, u: picked.userId });
    expect(addGuildMember).toEqual({ user: { username: picked.username }, guild: { id: guildId } });
    // again: idempotent
    expect((await owner.ok<{ addGuildMember: any }>(ADD, { g: guildId, u: picked.userId })).addGuildMember).toEqual(addGuildMember);
    // a stranger is "User not found", exactly as an id that names nobody
    const stranger = await signUp(server.graphqlUrl);
    const real = await owner.fails('NOT_FOUND', ADD, { g: guildId, u: stranger.userId });
    const madeUp = await owner.fails('NOT_FOUND', ADD, { g: guildId, u: unknownId('User') });
    expect(real).toEqual(madeUp);
    expect(real.message).toBe('User not found.');
  });

  it('reorders channels and renames them with MANAGE_CHANNELS', async () => {
    const make = async (name: string) =>
      (
        await owner.ok<{ createChannel: any }>(`mutation($g: ID!, $n: String!) { createChannel(input: { guildId: $g, name: $n }) { id } }`, {
          g: guildId,
          n: name,
        })
      ).createChannel.id;
    const rules = await make('rules');
    await make('memes');
    await pleb.fails('FORBIDDEN', `mutation($c: ID!) { updateChannel(id: $c, input: { position: 0 }) { id } }`, { c: rules });
    await owner.ok(`mutation($c: ID!) { updateChannel(id: $c, input: { position: 0, topic: "Read me" }) { id } }`, { c: rules });
    const { guild } = await owner.ok<{ guild: any }>(`query($g: ID!) { guild(id: $g) { channels { name position topic } } }`, {
      g: guildId,
    });
    expect(guild.channels).toEqual([
      { name: 'rules', position: 0, topic: 'Read me' },
      { name: 'general', position: 1, topic: null },
      { name: 'memes', position: 2, topic: null },
    ]);
  });

  it('transfers ownership to a member; the old owner may then leave', async () => {
    const g = await createGuild(owner, 'Handover');
    await invite(owner, g.guildId, pleb);
    const TRANSFER = `mutation($g: ID!, $u: ID!) { transferGuildOwnership(guildId: $g, userId: $u) { owner { username } } }`;
    await pleb.fails('FORBIDDEN', TRANSFER, { g: g.guildId, u: pleb.userId });
    const { transferGuildOwnership } = await owner.ok<{ transferGuildOwnership: any }>(TRANSFER, { g: g.guildId, u: pleb.userId });
    expect(transferGuildOwnership.owner.username).toBe(pleb.username);
    await owner.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: g.guildId });
  });
});
