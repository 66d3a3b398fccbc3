// Private channels: permission overwrites, resolved in Discord's order, and a channel hidden
// from someone is NOT_FOUND to them everywhere, with their open subscriptions of it cut the
// moment they lose VIEW_CHANNEL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createChannel, guildWithMembers, localId, send, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const SET_OVERWRITE = `mutation($c: ID!, $type: OverwriteTargetType!, $target: ID!, $allow: [Permission!]!, $deny: [Permission!]!) {
  setChannelPermissionOverwrite(channelId: $c, targetType: $type, targetId: $target, allow: $allow, deny: $deny) { targetType targetId allow deny }
}`;
const DELETE_OVERWRITE = `mutation($c: ID!, $type: OverwriteTargetType!, $target: ID!) {
  deleteChannelPermissionOverwrite(channelId: $c, targetType: $type, targetId: $target) { id }
}`;
const ROLES = `query($g: ID!) { guild(id: $g) { roles { id name } } }`;
const CREATE_ROLE = `mutation($input: CreateRoleInput!) { createRole(input: $input) { id } }`;
const ASSIGN = `mutation($g: ID!, $u: ID!, $r: ID!) { assignRole(guildId: $g, userId: $u, roleId: $r) { joinedAt } }`;
const UNASSIGN = `mutation($g: ID!, $u: ID!, $r: ID!) { unassignRole(guildId: $g, userId: $u, roleId: $r) { joinedAt } }`;
const CHANNEL = `query($id: ID!) { channel(id: $id) { id name viewerPermissions messages(first: 10) { edges { node { content } } } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id } }`;
const CHANNEL_LIST = `query($g: ID!) { guild(id: $g) { channels { id } } }`;
const UNREAD = `query($g: ID!) { guild(id: $g) { viewerUnread { unreadChannelCount unreadMessageCount mentionCount } } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id mentions { id } } }`;
const MESSAGE_ADDED = `subscription($c: ID!) { messageAdded(channelId: $c) { id content } }`;
const TYPING = `subscription($c: ID!) { typing(channelId: $c) { isTyping } }`;
const GUILD_EVENTS = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on ChannelUpdatedEvent { channel { id name } } } }`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

interface PrivateGuild {
  owner: Client;
  /** a member whose role "insiders" may view the channel */
  insider: Client;
  /** a member with no overwrite: @everyone's deny applies */
  outsider: Client;
  /** signed in, not in the guild */
  stranger: Client;
  guildId: string;
  generalId: string;
  secretId: string;
  everyoneRoleId: string;
  insidersRoleId: string;
}

/** A guild with #secret: @everyone denied VIEW_CHANNEL, the role "insiders" allowed it. */
async function privateGuild(): Promise<PrivateGuild> {
  const { owner, members, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 2);
  const [insider, outsider] = members as [Client, Client];
  const stranger = await signUp(server.graphqlUrl);
  const secretId = await createChannel(owner, guildId, 'secret');
  const { createRole } = await owner.ok(CREATE_ROLE, { input: { guildId, name: 'insiders', permissions: [] } });
  const roles = (await owner.ok(ROLES, { g: guildId })).guild.roles as { id: string; name: string }[];
  const everyoneRoleId = roles.find((r) => r.name === '@everyone')!.id;
  await owner.ok(ASSIGN, { g: guildId, u: insider.userId, r: createRole.id });
  await owner.ok(SET_OVERWRITE, { c: secretId, type: 'ROLE', target: everyoneRoleId, allow: [], deny: ['VIEW_CHANNEL'] });
  await owner.ok(SET_OVERWRITE, { c: secretId, type: 'ROLE', target: createRole.id, allow: ['VIEW_CHANNEL'], deny: [] });
  return { owner, insider, outsider, stranger, guildId, generalId, secretId, everyoneRoleId, insidersRoleId: createRole.id };
}

describe('who sees a private channel: stranger / member without the overwrite / member with it / owner', () => {
  let g: PrivateGuild;
  let secretMessageId: string;
  beforeAll(async () => {
    g = await privateGuild();
    secretMessageId = await send(g.owner, g.secretId, 'for insiders only');
  });
  const who = () =>
    [
      ['stranger', g.stranger, false],
      ['member without the overwrite', g.outsider, false],
      ['member with it', g.insider, true],
      ['owner', g.owner, true],
    ] as const;

  it('channel(id), node(id) and the history: the channel for those who may view it, NOT_FOUND for the others', async () => {
    for (const [label, client, sees] of who()) {
      if (sees) {
        const { channel } = await client.ok(CHANNEL, { id: g.secretId });
        expect(channel.messages.edges.map((e: any) => e.node.content), label).toEqual(['for insiders only']);
        expect(channel.viewerPermissions, label).toContain('VIEW_CHANNEL');
        expect((await client.ok(NODE, { id: g.secretId })).node.id, label).toBe(g.secretId);
      } else {
        await client.fails('NOT_FOUND', CHANNEL, { id: g.secretId });
        await client.fails('NOT_FOUND', NODE, { id: g.secretId });
      }
    }
  });

  it("guild.channels lists it only for those who may view it (a stranger sees none of the guild's channels)", async () => {
    const listed = async (client: Client) => ((await client.ok(CHANNEL_LIST, { g: g.guildId })).guild?.channels ?? []).map((c: any) => c.id);
    expect(await listed(g.owner)).toEqual([g.generalId, g.secretId]);
    expect(await listed(g.insider)).toEqual([g.generalId, g.secretId]);
    expect(await listed(g.outsider)).toEqual([g.generalId]);
    await g.stranger.fails('NOT_FOUND', CHANNEL_LIST, { g: g.guildId });
  });

  it('sending, reacting, reading a message, marking read and typing: NOT_FOUND for those who may not view it', async () => {
    for (const [label, client, sees] of who()) {
      const attempts = [
        [SEND, { input: { channelId: g.secretId, content: `from ${label}` } }],
        [`mutation($m: ID!) { addReaction(messageId: $m, emoji: "👍") { id } }`, { m: secretMessageId }],
        [NODE, { id: secretMessageId }],
        [`mutation($c: ID!, $m: ID!) { markChannelRead(channelId: $c, messageId: $m) { id } }`, { c: g.secretId, m: secretMessageId }],
        [`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: g.secretId }],
      ] as const;
      for (const [query, variables] of attempts) {
        if (sees) await client.ok(query, variables);
        else await client.fails('NOT_FOUND', query, variables);
      }
    }
  });

  it('subscriptions to it are refused NOT_FOUND for those who may not view it', async () => {
    for (const [label, client, sees] of who()) {
      const ws = wsClient(server.wsUrl, client.token);
      for (const query of [MESSAGE_ADDED, TYPING]) {
        const sub = subscribe(ws, query, { c: g.secretId });
        if (sees) {
          await waitForListener(server, query === TYPING ? 'typing' : 'messageAdded', localId(g.secretId));
        } else {
          const errors = await sub.errors;
          expect(errors[0]?.extensions?.code, label).toBe('NOT_FOUND');
        }
        sub.close();
      }
      await ws.dispose();
    }
  });
});

describe('mentions and unread summaries leave out a channel the member may not view', () => {
  it('a mention in a hidden channel is not stored, not notified and not counted; one in a visible channel is', async () => {
    const g = await privateGuild();
    const ws = wsClient(server.wsUrl, g.outsider.token);
    const mentions = subscribe<{ mentionAdded: { content: string } }>(ws, `subscription { mentionAdded { content } }`);
    await waitForListener(server, 'userEvent', localId(g.outsider.userId!));

    const { sendMessage } = await g.owner.ok(SEND, {
      input: { channelId: g.secretId, content: `<@${g.outsider.userId}> and <@${g.insider.userId}> look` },
    });
    expect(sendMessage.mentions.map((u: any) => u.id)).toEqual([g.insider.userId]);
    await send(g.owner, g.generalId, `<@${g.outsider.userId}> here instead`);
    expect((await mentions.next()).mentionAdded.content).toBe(`<@${g.outsider.userId}> here instead`);
    expect(mentions.pending()).toEqual([]);

    expect((await g.outsider.ok(UNREAD, { g: g.guildId })).guild.viewerUnread).toEqual({
      unreadChannelCount: 1,
      unreadMessageCount: 1,
      mentionCount: 1,
    });
    expect((await g.insider.ok(UNREAD, { g: g.guildId })).guild.viewerUnread).toEqual({
      unreadChannelCount: 2,
      unreadMessageCount: 2,
      mentionCount: 1,
    });
    mentions.close();
    await ws.dispose();
  });

  it('a message with attachments keeps only the mentions of those who may view the channel too', async () => {
    const g = await privateGuild();
    const upload = await uploadOne(g.owner);
    const { sendMessage } = await g.owner.ok(SEND, {
      input: { channelId: g.secretId, content: `<@${g.outsider.userId}> <@${g.insider.userId}>`, attachmentIds: [upload] },
    });
    expect(sendMessage.mentions.map((u: any) => u.id)).toEqual([g.insider.userId]);
  });

  it('chat_readable_channels (the predicate search uses) lists exactly the channels the user may view', async () => {
    const g = await privateGuild();
    const readable = async (client: Client) =>
      (await server.app.db.prisma.$queryRaw<{ id: string }[]>`SELECT "chat_readable_channels"(${localId(client.userId!)}) AS id`)
        .map((r) => r.id)
        .sort();
    const both = [localId(g.generalId), localId(g.secretId)].sort();
    expect(await readable(g.owner)).toEqual(both);
    expect(await readable(g.insider)).toEqual(both);
    expect(await readable(g.outsider)).toEqual([localId(g.generalId)]);
    expect(await readable(g.stranger)).toEqual([]);
  });
});

async function uploadOne(client: Client): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'note.txt');
  const res = await fetch(`${server.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${client.token}` }, body: form });
  const body = (await res.json()) as { attachments: { id: string }[] };
  return body.attachments[0]!.id;
}

describe('the resolution order, seen through the API', () => {
  it("a member's own deny beats their role's allow; removing it restores the role's allow", async () => {
    const g = await privateGuild();
    await g.owner.ok(SET_OVERWRITE, { c: g.secretId, type: 'MEMBER', target: g.insider.userId, allow: [], deny: ['VIEW_CHANNEL'] });
    await g.insider.fails('NOT_FOUND', CHANNEL, { id: g.secretId });
    await g.owner.ok(DELETE_OVERWRITE, { c: g.secretId, type: 'MEMBER', target: g.insider.userId });
    await g.insider.ok(CHANNEL, { id: g.secretId });
  });

  it('a read-only channel: viewing allowed, SEND_MESSAGES denied is FORBIDDEN', async () => {
    const g = await privateGuild();
    await g.owner.ok(SET_OVERWRITE, { c: g.secretId, type: 'ROLE', target: g.insidersRoleId, allow: ['VIEW_CHANNEL'], deny: ['SEND_MESSAGES'] });
    const { channel } = await g.insider.ok(CHANNEL, { id: g.secretId });
    expect(channel.viewerPermissions).not.toContain('SEND_MESSAGES');
    const error = await g.insider.fails('FORBIDDEN', SEND, { input: { channelId: g.secretId, content: 'no' } });
    expect(error.message).toMatch(/SEND_MESSAGES/);
  });

  it('an allow for one member makes the channel visible to them alone', async () => {
    const g = await privateGuild();
    await g.owner.ok(SET_OVERWRITE, { c: g.secretId, type: 'MEMBER', target: g.outsider.userId, allow: ['VIEW_CHANNEL'], deny: [] });
    await g.outsider.ok(CHANNEL, { id: g.secretId });
  });
});

describe('managing overwrites', () => {
  it('needs MANAGE_ROLES in the channel: a plain member is FORBIDDEN, a hidden channel NOT_FOUND, a stranger NOT_FOUND', async () => {
    const g = await privateGuild();
    const args = { c: g.secretId, type: 'MEMBER', target: g.outsider.userId, allow: ['VIEW_CHANNEL'], deny: [] };
    await g.insider.fails('FORBIDDEN', SET_OVERWRITE, args);
    await g.outsider.fails('NOT_FOUND', SET_OVERWRITE, args);
    await g.stranger.fails('NOT_FOUND', SET_OVERWRITE, args);
    await g.outsider.fails('NOT_FOUND', CHANNEL, { id: g.secretId });
  });

  it('Channel.permissionOverwrites: the overwrites for the owner, empty for a member who may not manage them', async () => {
    const g = await privateGuild();
    const query = `query($id: ID!) { channel(id: $id) { permissionOverwrites { targetType targetId allow deny } } }`;
    const { channel } = await g.owner.ok(query, { id: g.secretId });
    expect(channel.permissionOverwrites).toEqual(
      expect.arrayContaining([
        { targetType: 'ROLE', targetId: g.everyoneRoleId, allow: [], deny: ['VIEW_CHANNEL'] },
        { targetType: 'ROLE', targetId: g.insidersRoleId, allow: ['VIEW_CHANNEL'], deny: [] },
      ]),
    );
    expect((await g.insider.ok(query, { id: g.secretId })).channel.permissionOverwrites).toEqual([]);
  });

  it('respects the hierarchy: a manager cannot overwrite for a role at or above their own, nor grant what they lack', async () => {
    const g = await privateGuild();
    const { createRole: managers } = await g.owner.ok(CREATE_ROLE, { input: { guildId: g.guildId, name: 'managers', permissions: ['MANAGE_ROLES'] } });
    // "managers" starts just above @everyone, so "insiders" (made earlier) now ranks above it
    await g.owner.ok(ASSIGN, { g: g.guildId, u: g.outsider.userId, r: managers.id });
    await g.owner.ok(SET_OVERWRITE, { c: g.secretId, type: 'MEMBER', target: g.outsider.userId, allow: ['VIEW_CHANNEL'], deny: [] });
    const manager = g.outsider;
    await manager.fails('FORBIDDEN', SET_OVERWRITE, { c: g.secretId, type: 'ROLE', target: g.insidersRoleId, allow: [], deny: ['VIEW_CHANNEL'] });
    await manager.fails('FORBIDDEN', SET_OVERWRITE, { c: g.secretId, type: 'MEMBER', target: g.owner.userId, allow: [], deny: ['VIEW_CHANNEL'] });
    const lacking = await manager.fails('FORBIDDEN', SET_OVERWRITE, {
      c: g.secretId,
      type: 'ROLE',
      target: g.everyoneRoleId,
      allow: ['MANAGE_MESSAGES'],
      deny: [],
    });
    expect(lacking.message).toMatch(/do not have/);
    await manager.ok(SET_OVERWRITE, { c: g.secretId, type: 'ROLE', target: g.everyoneRoleId, allow: [], deny: ['VIEW_CHANNEL', 'ADD_REACTIONS'] });
  });

  it('refuses guild-wide permissions and a permission both allowed and denied (BAD_USER_INPUT); an unknown target is NOT_FOUND', async () => {
    const g = await privateGuild();
    await g.owner.fails('BAD_USER_INPUT', SET_OVERWRITE, { c: g.secretId, type: 'ROLE', target: g.everyoneRoleId, allow: ['ADMINISTRATOR'], deny: [] });
    await g.owner.fails('BAD_USER_INPUT', SET_OVERWRITE, {
      c: g.secretId,
      type: 'ROLE',
      target: g.everyoneRoleId,
      allow: ['SEND_MESSAGES'],
      deny: ['SEND_MESSAGES'],
    });
    await g.owner.fails('NOT_FOUND', SET_OVERWRITE, { c: g.secretId, type: 'MEMBER', target: g.stranger.userId, allow: [], deny: ['VIEW_CHANNEL'] });
    const otherGuild = await guildWithMembers(server.graphqlUrl, 0);
    const { guild } = await otherGuild.owner.ok(ROLES, { g: otherGuild.guildId });
    await g.owner.fails('NOT_FOUND', SET_OVERWRITE, { c: g.secretId, type: 'ROLE', target: guild.roles[0].id, allow: [], deny: ['VIEW_CHANNEL'] });
  });
});

describe('losing VIEW_CHANNEL cuts open subscriptions of the channel at once', () => {
  async function subscribedInsider() {
    const g = await privateGuild();
    const ws = wsClient(server.wsUrl, g.insider.token);
    const secret = subscribe<{ messageAdded: { id: string } }>(ws, MESSAGE_ADDED, { c: g.secretId });
    const typing = subscribe(ws, TYPING, { c: g.secretId });
    const general = subscribe<{ messageAdded: { id: string } }>(ws, MESSAGE_ADDED, { c: g.generalId });
    await waitForListener(server, 'messageAdded', localId(g.secretId));
    await waitForListener(server, 'typing', localId(g.secretId));
    await waitForListener(server, 'messageAdded', localId(g.generalId));
    const first = await send(g.owner, g.secretId, 'still inside');
    expect((await secret.next()).messageAdded.id).toBe(first);
    return { g, ws, secret, typing, general };
  }

  /** The cut streams complete; the member's other channel keeps delivering. */
  async function expectCut(s: Awaited<ReturnType<typeof subscribedInsider>>) {
    await s.secret.completed;
    await s.typing.completed;
    await send(s.g.owner, s.g.secretId, 'after the cut');
    const still = await send(s.g.owner, s.g.generalId, 'general goes on');
    expect((await s.general.next()).messageAdded.id).toBe(still);
    expect(s.secret.pending()).toEqual([]);
    s.general.close();
    await s.ws.dispose();
  }

  it('when their role is taken from them', async () => {
    const s = await subscribedInsider();
    await s.g.owner.ok(UNASSIGN, { g: s.g.guildId, u: s.g.insider.userId, r: s.g.insidersRoleId });
    await expectCut(s);
  });

  it("when their role's overwrite no longer allows it", async () => {
    const s = await subscribedInsider();
    await s.g.owner.ok(DELETE_OVERWRITE, { c: s.g.secretId, type: 'ROLE', target: s.g.insidersRoleId });
    await expectCut(s);
  });

  it('when an overwrite of their own denies it', async () => {
    const s = await subscribedInsider();
    await s.g.owner.ok(SET_OVERWRITE, { c: s.g.secretId, type: 'MEMBER', target: s.g.insider.userId, allow: [], deny: ['VIEW_CHANNEL'] });
    await expectCut(s);
  });

  it('while a change that keeps their view cuts nothing', async () => {
    const s = await subscribedInsider();
    await s.g.owner.ok(SET_OVERWRITE, { c: s.g.secretId, type: 'MEMBER', target: s.g.insider.userId, allow: [], deny: ['ADD_REACTIONS'] });
    const next = await send(s.g.owner, s.g.secretId, 'still here');
    expect((await s.secret.nextMatching((e) => e.messageAdded.id === next)).messageAdded.id).toBe(next);
    s.secret.close();
    s.typing.close();
    s.general.close();
    await s.ws.dispose();
  });
});

describe('guildEvents leaves out a channel the subscriber may not view', () => {
  it('renaming #secret reaches the insider, not the outsider', async () => {
    const g = await privateGuild();
    const wsIn = wsClient(server.wsUrl, g.insider.token);
    const wsOut = wsClient(server.wsUrl, g.outsider.token);
    const inside = subscribe<{ guildEvents: any }>(wsIn, GUILD_EVENTS, { g: g.guildId });
    const outside = subscribe<{ guildEvents: any }>(wsOut, GUILD_EVENTS, { g: g.guildId });
    await waitForListener(server, 'guildEvent', localId(g.guildId), 2);
    const rename = `mutation($id: ID!, $name: String!) { updateChannel(id: $id, input: { name: $name }) { id } }`;
    await g.owner.ok(rename, { id: g.secretId, name: 'hush' });
    await g.owner.ok(rename, { id: g.generalId, name: 'lobby' });
    expect((await inside.next()).guildEvents.channel).toEqual({ id: g.secretId, name: 'hush' });
    expect((await inside.next()).guildEvents.channel).toEqual({ id: g.generalId, name: 'lobby' });
    expect((await outside.next()).guildEvents.channel).toEqual({ id: g.generalId, name: 'lobby' });
    expect(outside.pending()).toEqual([]);
    inside.close();
    outside.close();
    await wsIn.dispose();
    await wsOut.dispose();
  });
});
