// Direct messages and group chats: channels outside any guild whose recipients are their only
// members, with everything messages have; blocking and the direct message policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, invite, localId, send, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const OPEN = `mutation($u: ID!) { openDirectChannel(userId: $u) { id type name guild { id } recipients { id } owner { id } } }`;
const CREATE_GROUP = `mutation($u: [ID!]!, $name: String) { createGroupChat(userIds: $u, name: $name) { id type name owner { id } recipients { id } } }`;
const ADD = `mutation($c: ID!, $u: ID!) { addGroupChatMember(channelId: $c, userId: $u) { recipients { id } } }`;
const REMOVE = `mutation($c: ID!, $u: ID!) { removeGroupChatMember(channelId: $c, userId: $u) { recipients { id } } }`;
const LEAVE = `mutation($c: ID!) { leaveGroupChat(channelId: $c) }`;
const RENAME = `mutation($c: ID!, $name: String!) { renameGroupChat(channelId: $c, name: $name) { name } }`;
const BLOCK = `mutation($u: ID!) { blockUser(userId: $u) { id } }`;
const UNBLOCK = `mutation($u: ID!) { unblockUser(userId: $u) { id } }`;
const POLICY = `mutation($p: DirectMessagePolicy!) { updateDirectMessageSettings(policy: $p) { directMessagePolicy } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id mentions { id } attachments { fileName } } }`;
const CHANNEL = `query($id: ID!) { channel(id: $id) { id unreadCount mentionCount viewerPermissions messages(first: 20) { edges { node { id content } } } } }`;
const DIRECT_CHANNELS = `{ viewer { directChannels { id unreadCount } } }`;
const MESSAGE_ADDED = `subscription($c: ID!, $since: String) { messageAdded(channelId: $c, since: $since) { id content channel { id type } author { id } } }`;
const TYPING = `subscription($c: ID!) { typing(channelId: $c) { isTyping user { id } } }`;
const UPDATED = `subscription($c: ID!) { messageUpdated(channelId: $c) { id content reactions { emoji count } } }`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const people = (n: number) => Promise.all(Array.from({ length: n }, () => signUp(server.graphqlUrl)));
const openDm = async (from: Client, to: Client) => (await from.ok(OPEN, { u: to.userId })).openDirectChannel;

describe('openDirectChannel', () => {
  it('returns the one DM of two people, outside any guild, whoever opens it and however often', async () => {
    const [a, b] = await people(2);
    const dm = await openDm(a!, b!);
    expect(dm).toMatchObject({ type: 'DM', name: '', guild: null, owner: null });
    expect(dm.recipients.map((u: any) => u.id).sort()).toEqual([a!.userId, b!.userId].sort());
    expect((await openDm(a!, b!)).id).toBe(dm.id);
    expect((await openDm(b!, a!)).id).toBe(dm.id);
  });

  it('two people opening it at the same moment, ten times each, get one channel', async () => {
    const [a, b] = await people(2);
    const calls = Array.from({ length: 20 }, (_, i) => (i % 2 ? openDm(a!, b!) : openDm(b!, a!)));
    const ids = new Set((await Promise.all(calls)).map((c) => c.id));
    expect(ids.size).toBe(1);
    const stored = await server.app.db.prisma.channel.count({ where: { type: 'DM', recipients: { some: { userId: localId(a!.userId!) } } } });
    expect(stored).toBe(1);
  });

  it('refuses yourself (BAD_USER_INPUT) and an id that names nobody (NOT_FOUND)', async () => {
    const [a] = await people(1);
    await a!.fails('BAD_USER_INPUT', OPEN, { u: a!.userId });
    await a!.fails('NOT_FOUND', OPEN, { u: Buffer.from('User:01ARZ3NDEKTSV4RRFFQ69G5FAV').toString('base64') });
  });
});

describe('who reaches a DM or group chat: stranger / recipient / owner', () => {
  it('a stranger gets NOT_FOUND for the channel, its history, sending, its messages and its subscriptions', async () => {
    const [a, b, stranger] = await people(3);
    const dm = await openDm(a!, b!);
    const group = (await a!.ok(CREATE_GROUP, { u: [b!.userId], name: 'pals' })).createGroupChat;
    for (const channelId of [dm.id, group.id]) {
      const messageId = await send(a!, channelId, 'private words');
      await stranger!.fails('NOT_FOUND', CHANNEL, { id: channelId });
      await stranger!.fails('NOT_FOUND', `query($id: ID!) { node(id: $id) { id } }`, { id: messageId });
      await stranger!.fails('NOT_FOUND', SEND, { input: { channelId, content: 'let me in' } });
      await stranger!.fails('NOT_FOUND', `mutation($m: ID!) { addReaction(messageId: $m, emoji: "👀") { id } }`, { m: messageId });
      await stranger!.fails('NOT_FOUND', RENAME, { c: channelId, name: 'mine' });
      const ws = wsClient(server.wsUrl, stranger!.token);
      const sub = subscribe(ws, MESSAGE_ADDED, { c: channelId });
      expect((await sub.errors)[0]?.extensions?.code).toBe('NOT_FOUND');
      await ws.dispose();
      // both recipients (the owner among them) read it
      for (const recipient of [a!, b!]) {
        const { channel } = await recipient.ok(CHANNEL, { id: channelId });
        expect(channel.messages.edges.map((e: any) => e.node.content)).toEqual(['private words']);
      }
    }
  });

  it('recipients may send, react, attach and edit their own, but not delete others’ messages or manage the channel', async () => {
    const [a, b] = await people(2);
    const dm = await openDm(a!, b!);
    const { channel } = await a!.ok(CHANNEL, { id: dm.id });
    expect(channel.viewerPermissions.sort()).toEqual(['ADD_REACTIONS', 'ATTACH_FILES', 'SEND_MESSAGES', 'VIEW_CHANNEL']);
    const theirs = await send(b!, dm.id, 'mine to keep');
    await a!.fails('FORBIDDEN', `mutation($id: ID!) { deleteMessage(id: $id) }`, { id: theirs });
    await a!.fails('FORBIDDEN', `mutation($id: ID!) { editMessage(id: $id, content: "x") { id } }`, { id: theirs });
    await b!.ok(`mutation($id: ID!) { editMessage(id: $id, content: "edited") { id } }`, { id: theirs });
    await a!.fails('BAD_USER_INPUT', `mutation($id: ID!) { updateChannel(id: $id, input: { name: "x" }) { id } }`, { id: dm.id });
    await a!.fails('BAD_USER_INPUT', `mutation($id: ID!) { deleteChannel(id: $id) }`, { id: dm.id });
  });
});

describe('a DM has everything messages have', () => {
  it('live messageAdded with resume, typing, reactions and edits reach the other recipient', async () => {
    const [a, b] = await people(2);
    const dm = await openDm(a!, b!);
    const first = await send(a!, dm.id, 'one');
    const second = await send(a!, dm.id, 'two');
    const ws = wsClient(server.wsUrl, b!.token);
    const added = subscribe<{ messageAdded: any }>(ws, MESSAGE_ADDED, { c: dm.id, since: first });
    expect((await added.next()).messageAdded).toMatchObject({ id: second, content: 'two', channel: { id: dm.id, type: 'DM' } });
    const typing = subscribe<{ typing: any }>(ws, TYPING, { c: dm.id });
    const updated = subscribe<{ messageUpdated: any }>(ws, UPDATED, { c: dm.id });
    await waitForListener(server, 'typing', localId(dm.id));
    await waitForListener(server, 'messageUpdated', localId(dm.id));

    const third = await send(a!, dm.id, 'three');
    expect((await added.next()).messageAdded.id).toBe(third);
    await a!.ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: dm.id });
    expect((await typing.next()).typing).toEqual({ isTyping: true, user: { id: a!.userId } });
    await b!.ok(`mutation($m: ID!) { addReaction(messageId: $m, emoji: "🎉") { id } }`, { m: third });
    expect((await updated.next()).messageUpdated.reactions).toEqual([{ emoji: '🎉', count: 1 }]);
    await a!.ok(`mutation($id: ID!) { editMessage(id: $id, content: "three!") { id } }`, { id: third });
    expect((await updated.next()).messageUpdated.content).toBe('three!');
    await ws.dispose();
  });

  it('delivers a DM event to its subscribers without a database query', async () => {
    const [a, b] = await people(2);
    const dm = await openDm(a!, b!);
    const ws = wsClient(server.wsUrl, b!.token);
    const added = subscribe<{ messageAdded: any }>(ws, MESSAGE_ADDED, { c: dm.id });
    await waitForListener(server, 'messageAdded', localId(dm.id));
    const sent = await send(a!, dm.id, 'counted');
    expect((await added.next()).messageAdded.id).toBe(sent);
    const { snapshot: published } = await capturedSnapshot(a!, dm.id);
    expect((await added.next()).messageAdded.content).toBe('published again');
    const before = server.app.db.queries.count;
    await server.app.pubsub.publish('messageAdded', localId(dm.id), published);
    expect((await added.next()).messageAdded).toMatchObject({ content: 'published again', channel: { type: 'DM' }, author: { id: a!.userId } });
    expect(server.app.db.queries.count - before).toBe(0);
    await ws.dispose();
  });

  it('mentions keep recipients only, attachments work, and unread counts count', async () => {
    const [a, b, outsider] = await people(3);
    const dm = await openDm(a!, b!);
    const upload = await uploadOne(a!);
    const { sendMessage } = await a!.ok(SEND, {
      input: { channelId: dm.id, content: `<@${b!.userId}> <@${outsider!.userId}> see this`, attachmentIds: [upload] },
    });
    expect(sendMessage.mentions).toEqual([{ id: b!.userId }]);
    expect(sendMessage.attachments).toEqual([{ fileName: 'note.txt' }]);
    await send(a!, dm.id, `<@${b!.userId}> and again`);
    const { channel } = await b!.ok(CHANNEL, { id: dm.id });
    expect({ unread: channel.unreadCount, mentions: channel.mentionCount }).toEqual({ unread: 2, mentions: 2 });
    expect((await a!.ok(CHANNEL, { id: dm.id })).channel.unreadCount).toBe(0);
  });
});

describe('viewer.directChannels', () => {
  it('lists DMs and group chats by last activity, with unread counts, and nothing on another profile', async () => {
    const [a, b, c] = await people(3);
    const dmB = await openDm(a!, b!);
    const dmC = await openDm(a!, c!);
    const group = (await a!.ok(CREATE_GROUP, { u: [b!.userId, c!.userId] })).createGroupChat;
    // newest first: the group (created last), then dmC, then dmB
    expect((await a!.ok(DIRECT_CHANNELS)).viewer.directChannels.map((d: any) => d.id)).toEqual([group.id, dmC.id, dmB.id]);
    await send(b!, dmB.id, 'bump');
    expect((await a!.ok(DIRECT_CHANNELS)).viewer.directChannels).toEqual([
      { id: dmB.id, unreadCount: 1 },
      { id: group.id, unreadCount: 0 },
      { id: dmC.id, unreadCount: 0 },
    ]);
    const guild = await createGuild(a!);
    await invite(a!, guild.guildId, b!);
    const other = await b!.ok(`query($id: ID!) { user(id: $id) { directChannels { id } blockedUsers { id } directMessagePolicy } }`, {
      id: a!.userId,
    });
    expect(other.user).toEqual({ directChannels: [], blockedUsers: [], directMessagePolicy: null });
  });
});

describe('group chats', () => {
  it('the creator owns it; up to 10 people; any member adds, only the owner removes', async () => {
    const [owner, ...others] = await people(11);
    const { createGroupChat: group } = await owner!.ok(CREATE_GROUP, { u: others.slice(0, 2).map((c) => c.userId), name: ' trip ' });
    expect(group).toMatchObject({ type: 'GROUP_DM', name: 'trip', owner: { id: owner!.userId } });
    expect(group.recipients).toHaveLength(3);
    const member = others[0]!;
    for (const added of others.slice(2, 9)) await member.ok(ADD, { c: group.id, u: added.userId });
    await member.ok(ADD, { c: group.id, u: others[2]!.userId }); // already there: success
    const full = await member.fails('BAD_USER_INPUT', ADD, { c: group.id, u: others[9]!.userId });
    expect(full.message).toMatch(/at most 10/);
    await owner!.fails('BAD_USER_INPUT', CREATE_GROUP, { u: others.map((c) => c.userId) });

    await member.fails('FORBIDDEN', REMOVE, { c: group.id, u: others[1]!.userId });
    const { removeGroupChatMember } = await owner!.ok(REMOVE, { c: group.id, u: others[1]!.userId });
    expect(removeGroupChatMember.recipients).toHaveLength(9);
    await others[1]!.fails('NOT_FOUND', CHANNEL, { id: group.id });
    expect((await member.ok(RENAME, { c: group.id, name: 'road trip' })).renameGroupChat.name).toBe('road trip');
  });

  it('removing or leaving cuts that person’s open subscriptions of the chat at once', async () => {
    const [owner, kept, removed, leaver] = await people(4);
    const group = (await owner!.ok(CREATE_GROUP, { u: [kept!.userId, removed!.userId, leaver!.userId] })).createGroupChat;
    const sockets = [kept!, removed!, leaver!].map((c) => wsClient(server.wsUrl, c.token));
    const [keptSub, removedSub, leaverSub] = sockets.map((ws) => subscribe<{ messageAdded: any }>(ws, MESSAGE_ADDED, { c: group.id }));
    const leaverTyping = subscribe(sockets[2]!, TYPING, { c: group.id });
    await waitForListener(server, 'messageAdded', localId(group.id), 3);
    await waitForListener(server, 'typing', localId(group.id));

    await owner!.ok(REMOVE, { c: group.id, u: removed!.userId });
    await removedSub!.completed;
    await leaver!.ok(LEAVE, { c: group.id });
    await leaverSub!.completed;
    await leaverTyping.completed;
    const after = await send(owner!, group.id, 'after they went');
    expect((await keptSub!.next()).messageAdded.id).toBe(after);
    expect(removedSub!.pending()).toEqual([]);
    expect(leaverSub!.pending()).toEqual([]);
    for (const ws of sockets) await ws.dispose();
  });

  it('an owner who leaves hands it on to the longest-standing member; the last one out deletes it', async () => {
    const [owner, first, second] = await people(3);
    const group = (await owner!.ok(CREATE_GROUP, { u: [first!.userId] })).createGroupChat;
    await first!.ok(ADD, { c: group.id, u: second!.userId });
    await owner!.ok(LEAVE, { c: group.id });
    await owner!.fails('NOT_FOUND', CHANNEL, { id: group.id });
    const owned = await first!.ok(`query($id: ID!) { channel(id: $id) { owner { id } } }`, { id: group.id });
    expect(owned.channel.owner).toEqual({ id: first!.userId });
    await first!.ok(LEAVE, { c: group.id });
    await second!.ok(LEAVE, { c: group.id });
    expect(await server.app.db.prisma.channel.count({ where: { id: localId(group.id) } })).toBe(0);
  });

  it('a DM is not a group chat: group operations on it are NOT_FOUND', async () => {
    const [a, b, c] = await people(3);
    const dm = await openDm(a!, b!);
    await a!.fails('NOT_FOUND', ADD, { c: dm.id, u: c!.userId });
    await a!.fails('NOT_FOUND', LEAVE, { c: dm.id });
  });
});

describe('blocking', () => {
  it('a blocked user cannot open a DM with, send DMs to, or put in a group chat the blocker; unblocking restores it', async () => {
    const [blocker, blocked, friend] = await people(3);
    const dm = await openDm(blocked!, blocker!);
    await blocker!.ok(BLOCK, { u: blocked!.userId });
    await blocker!.ok(BLOCK, { u: blocked!.userId }); // idempotent
    expect((await blocker!.ok(`{ viewer { blockedUsers { id } } }`)).viewer.blockedUsers).toEqual([{ id: blocked!.userId }]);

    const refused = await blocked!.fails('FORBIDDEN', OPEN, { u: blocker!.userId });
    expect(refused.message).toMatch(/does not accept/);
    await blocked!.fails('FORBIDDEN', SEND, { input: { channelId: dm.id, content: 'hello?' } });
    await blocked!.fails('FORBIDDEN', CREATE_GROUP, { u: [blocker!.userId, friend!.userId] });
    const group = (await blocked!.ok(CREATE_GROUP, { u: [friend!.userId] })).createGroupChat;
    await blocked!.fails('FORBIDDEN', ADD, { c: group.id, u: blocker!.userId });
    // nor does the blocker write to them while the block stands
    await blocker!.fails('FORBIDDEN', SEND, { input: { channelId: dm.id, content: 'and you?' } });

    await blocker!.ok(UNBLOCK, { u: blocked!.userId });
    await blocker!.fails('NOT_FOUND', UNBLOCK, { u: blocked!.userId });
    await send(blocked!, dm.id, 'friends again');
    await blocked!.ok(ADD, { c: group.id, u: blocker!.userId });
  });

  it('blocking someone you cannot see is NOT_FOUND, as for an id that names nobody', async () => {
    const [a, stranger] = await people(2);
    await a!.fails('NOT_FOUND', BLOCK, { u: stranger!.userId });
  });
});

describe('the direct message policy', () => {
  it('EVERYONE (the default): a stranger may open a DM by id', async () => {
    const [a, stranger] = await people(2);
    expect((await a!.ok(`{ viewer { directMessagePolicy } }`)).viewer.directMessagePolicy).toBe('EVERYONE');
    await openDm(stranger!, a!);
  });

  it('SHARED_GUILDS: guild mates may, a stranger finds nobody (NOT_FOUND)', async () => {
    const [a, mate, stranger] = await people(3);
    const guild = await createGuild(a!);
    await invite(a!, guild.guildId, mate!);
    await a!.ok(POLICY, { p: 'SHARED_GUILDS' });
    await openDm(mate!, a!);
    await stranger!.fails('NOT_FOUND', OPEN, { u: a!.userId });
  });

  it('NOBODY: opening is FORBIDDEN, and so is sending in a DM opened before; group chats one is in go on', async () => {
    const [a, b] = await people(2);
    const dm = await openDm(b!, a!);
    const group = (await b!.ok(CREATE_GROUP, { u: [a!.userId] })).createGroupChat;
    expect((await a!.ok(POLICY, { p: 'NOBODY' })).updateDirectMessageSettings.directMessagePolicy).toBe('NOBODY');
    await b!.fails('FORBIDDEN', OPEN, { u: a!.userId });
    await b!.fails('FORBIDDEN', SEND, { input: { channelId: dm.id, content: 'hi' } });
    await send(b!, group.id, 'the group goes on');
  });
});

async function uploadOne(client: Client): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'note.txt');
  const res = await fetch(`${server.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${client.token}` }, body: form });
  return ((await res.json()) as { attachments: { id: string }[] }).attachments[0]!.id;
}

/** A message event of the channel as the server publishes it, for publishing again. */
async function capturedSnapshot(sender: Client, channelId: string) {
  const captured = new Promise<any>((resolve) => {
    let stop: (() => Promise<void>) | undefined;
    void server.app.pubsub
      .listen('messageAdded', localId(channelId), (payload) => {
        resolve(payload);
        void stop?.();
      })
      .then((unlisten) => (stop = unlisten));
  });
  await waitForListener(server, 'messageAdded', localId(channelId), 2);
  await send(sender, channelId, 'published again');
  return { snapshot: await captured };
}
