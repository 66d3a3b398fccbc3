import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, invite, localId, send, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const MESSAGE_ADDED = `subscription($c: ID!, $since: String) {
  messageAdded(channelId: $c, since: $since) { id content author { username } channel { id } }
}`;

let server: TestServer;
let owner: Client;
let member: Client;
let outsider: Client;
let guildId: string;
let channelId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUp(server.graphqlUrl);
  member = await signUp(server.graphqlUrl);
  outsider = await signUp(server.graphqlUrl);
  ({ guildId, generalId: channelId } = await createGuild(owner, 'Realtime'));
  await invite(owner, guildId, member);
});
afterAll(() => server?.stop());

describe('messageAdded', () => {
  it('delivers messages sent over HTTP to a WebSocket subscriber', async () => {
    const ws = wsClient(server.wsUrl, member.token);
    const sub = subscribe<{ messageAdded: any }>(ws, MESSAGE_ADDED, { c: channelId });
    await waitForListener(server, 'messageAdded', localId(channelId));
    const id = await send(owner, channelId, 'hello live');
    const event = await sub.next();
    expect(event.messageAdded).toMatchObject({ id, content: 'hello live', author: { username: owner.username } });
    sub.close();
    await ws.dispose();
  });

  it('resumes from a cursor with no gap and no duplicate while sends race the replay', async () => {
    const before: string[] = [];
    for (let i = 0; i < 15; i++) before.push(await send(owner, channelId, `before ${i}`));
    const since = before[4]!;
    const expected = before.slice(5);

    const ws = wsClient(server.wsUrl, member.token);
    const sub = subscribe<{ messageAdded: any }>(ws, MESSAGE_ADDED, { c: channelId, since });
    // Sends race the subscription's replay: some land before it, some during, some after.
    const racing: Promise<string>[] = [];
    for (let i = 0; i < 20; i++) racing.push(send(i % 2 ? owner : member, channelId, `racing ${i}`));
    const racedIds = await Promise.all(racing);
    const total = expected.length + racedIds.length;

    const received: string[] = [];
    while (received.length < total) received.push((await sub.next(10_000)).messageAdded.id);
    // A sentinel sent last proves nothing else was queued behind it.
    const sentinel = await send(owner, channelId, 'sentinel');
    expect((await sub.next()).messageAdded.id).toBe(sentinel);

    expect(new Set(received).size).toBe(received.length);
    expect(received.slice(0, expected.length)).toEqual(expected);
    expect([...received].sort()).toEqual([...expected, ...racedIds].sort());
    sub.close();
    await ws.dispose();
  });

  it('accepts an edge cursor of channel.messages as `since`', async () => {
    const { channel } = await member.ok<{ channel: any }>(
      `query($c: ID!) { channel(id: $c) { messages(first: 1) { edges { cursor } } } }`,
      { c: channelId },
    );
    const ws = wsClient(server.wsUrl, member.token);
    const sub = subscribe<{ messageAdded: any }>(ws, MESSAGE_ADDED, { c: channelId, since: channel.messages.edges[0].cursor });
    await waitForListener(server, 'messageAdded', localId(channelId));
    const id = await send(owner, channelId, 'after the cursor');
    expect((await sub.next()).messageAdded.id).toBe(id);
    sub.close();
    await ws.dispose();
  });

  it('refuses anonymous subscribers with UNAUTHENTICATED and non-members with NOT_FOUND', async () => {
    const anon = wsClient(server.wsUrl);
    const refused = await subscribe(anon, MESSAGE_ADDED, { c: channelId }).errors;
    expect(refused[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await anon.dispose();

    const stranger = wsClient(server.wsUrl, outsider.token);
    const hidden = await subscribe(stranger, MESSAGE_ADDED, { c: channelId }).errors;
    expect(hidden[0]?.extensions?.code).toBe('NOT_FOUND');
    await stranger.dispose();
  });
});

describe('messageUpdated and messageDeleted', () => {
  it('tell subscribers about edits and deletions', async () => {
    const ws = wsClient(server.wsUrl, member.token);
    const updated = subscribe<{ messageUpdated: any }>(
      ws,
      `subscription($c: ID!) { messageUpdated(channelId: $c) { id content editedAt } }`,
      { c: channelId },
    );
    const deleted = subscribe<{ messageDeleted: any }>(
      ws,
      `subscription($c: ID!) { messageDeleted(channelId: $c) { id channelId } }`,
      { c: channelId },
    );
    await waitForListener(server, 'messageUpdated', localId(channelId));
    await waitForListener(server, 'messageDeleted', localId(channelId));
    const id = await send(owner, channelId, 'typo');
    await owner.ok(`mutation($id: ID!) { editMessage(id: $id, content: "fixed") { id } }`, { id });
    const edit = (await updated.next()).messageUpdated;
    expect(edit).toMatchObject({ id, content: 'fixed' });
    expect(edit.editedAt).toBeTruthy();
    await owner.ok(`mutation($id: ID!) { deleteMessage(id: $id) }`, { id });
    expect((await deleted.next()).messageDeleted).toEqual({ id, channelId });
    updated.close();
    deleted.close();
    await ws.dispose();
  });
});

describe('access is enforced on open subscriptions', () => {
  it('a member who leaves stops receiving at once: the subscription completes', async () => {
    const leaver = await signUp(server.graphqlUrl);
    await invite(owner, guildId, leaver);
    const ws = wsClient(server.wsUrl, leaver.token);
    const sub = subscribe<{ messageAdded: any }>(ws, MESSAGE_ADDED, { c: channelId });
    await waitForListener(server, 'messageAdded', localId(channelId));
    const first = await send(owner, channelId, 'still a member');
    expect((await sub.next()).messageAdded.id).toBe(first);

    await leaver.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId });
    await sub.completed;
    await send(owner, channelId, 'after leaving');
    expect(sub.pending()).toEqual([]);
    await ws.dispose();
  });

  it('deleting the guild completes its members’ subscriptions', async () => {
    const doomed = await createGuild(owner, 'Doomed');
    const ws = wsClient(server.wsUrl, owner.token);
    const sub = subscribe(ws, MESSAGE_ADDED, { c: doomed.generalId });
    await waitForListener(server, 'messageAdded', localId(doomed.generalId));
    await owner.ok(`mutation($g: ID!) { deleteGuild(id: $g) }`, { g: doomed.guildId });
    await sub.completed;
    await ws.dispose();
  });
});

describe('many subscriptions opened at once', () => {
  it('share the access check: a few queries for 300 subscriptions, every one live and cut on leave', async () => {
    const joiner = await signUp(server.graphqlUrl);
    await invite(owner, guildId, joiner);
    const ws = wsClient(server.wsUrl, joiner.token);
    const before = server.app.db.queries.count;
    const listening = await server.app.pubsub.listenerCount('messageAdded', localId(channelId));
    const subs = Array.from({ length: 300 }, () => subscribe<{ messageAdded: any }>(ws, MESSAGE_ADDED, { c: channelId }));
    await waitForListener(server, 'messageAdded', localId(channelId), listening + 300);
    // one query per subscription queued 10,000 of them past the pool's timeout
    expect(server.app.db.queries.count - before).toBeLessThan(30);
    const id = await send(owner, channelId, 'to all 300');
    for (const sub of subs) expect((await sub.next()).messageAdded.id).toBe(id);
    await joiner.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId });
    await Promise.all(subs.map((sub) => sub.completed));
    await ws.dispose();
  });
});

describe('typing', () => {
  const TYPING = `subscription($c: ID!) { typing(channelId: $c) { channelId isTyping expiresAt user { username } } }`;

  it('reaches others but never the typist, and ends on stopTyping and on the next message', async () => {
    const ownerWs = wsClient(server.wsUrl, owner.token);
    const memberWs = wsClient(server.wsUrl, member.token);
    const ownerSub = subscribe<{ typing: any }>(ownerWs, TYPING, { c: channelId });
    const memberSub = subscribe<{ typing: any }>(memberWs, TYPING, { c: channelId });
    await waitForListener(server, 'typing', localId(channelId), 2);

    await member.ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId });
    const started = (await ownerSub.next()).typing;
    expect(started).toMatchObject({ channelId, isTyping: true, user: { username: member.username } });
    expect(Date.parse(started.expiresAt)).toBeGreaterThan(Date.now());
    const { channel } = await owner.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { typingUsers { username } } }`, {
      c: channelId,
    });
    expect(channel.typingUsers).toEqual([{ username: member.username }]);

    await member.ok(`mutation($c: ID!) { stopTyping(channelId: $c) }`, { c: channelId });
    expect((await ownerSub.next()).typing).toMatchObject({ isTyping: false, expiresAt: null });

    await member.ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId });
    expect((await ownerSub.next()).typing.isTyping).toBe(true);
    await send(member, channelId, 'done typing');
    expect((await ownerSub.next()).typing).toMatchObject({ isTyping: false, user: { username: member.username } });

    // The typist's own subscription saw none of it.
    expect(memberSub.pending()).toEqual([]);
    ownerSub.close();
    memberSub.close();
    await Promise.all([ownerWs.dispose(), memberWs.dispose()]);
  });

  it('expires an indicator that is not refreshed', async () => {
    const quick = await startTestServer({ env: { TYPING_TTL_MS: '300' } });
    try {
      const a = await signUp(quick.graphqlUrl);
      const b = await signUp(quick.graphqlUrl);
      const g = await createGuild(a);
      await invite(a, g.guildId, b);
      const ws = wsClient(quick.wsUrl, a.token);
      const sub = subscribe<{ typing: any }>(ws, TYPING, { c: g.generalId });
      await waitForListener(quick, 'typing', localId(g.generalId));
      await b.ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: g.generalId });
      const started = (await sub.next()).typing;
      expect(started.isTyping).toBe(true);
      const ended = (await sub.next(5_000)).typing;
      expect(ended).toMatchObject({ isTyping: false, user: { username: b.username } });
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(started.expiresAt));
      const { channel } = await a.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { typingUsers { id } } }`, {
        c: g.generalId,
      });
      expect(channel.typingUsers).toEqual([]);
      sub.close();
      await ws.dispose();
    } finally {
      await quick.stop();
    }
  });
});

describe('presence', () => {
  const PRESENCE = `subscription($g: ID!) { presence(guildId: $g) { guildId status user { username } } }`;

  it('is ONLINE while connected, follows setPresence, and OFFLINE after the last connection closes', async () => {
    const ownerWs = wsClient(server.wsUrl, owner.token);
    const sub = subscribe<{ presence: any }>(ownerWs, PRESENCE, { g: guildId });
    await waitForListener(server, 'presence', localId(guildId));

    const memberWs = wsClient(server.wsUrl, member.token);
    const memberSub = subscribe(memberWs, MESSAGE_ADDED, { c: channelId }); // opens the socket
    const aboutMember = (e: { presence: any }) => e.presence.user.username === member.username;
    const online = (await sub.nextMatching(aboutMember)).presence;
    expect(online).toEqual({ guildId, status: 'ONLINE', user: { username: member.username } });

    const { guild } = await owner.ok<{ guild: any }>(
      `query($g: ID!) { guild(id: $g) { onlineMembers { username status } } }`,
      { g: guildId },
    );
    expect(guild.onlineMembers).toContainEqual({ username: member.username, status: 'ONLINE' });

    await member.ok(`mutation { setPresence(status: DND) { status } }`);
    expect((await sub.nextMatching(aboutMember)).presence.status).toBe('DND');
    await member.ok(`mutation { setPresence(status: ONLINE) { status } }`);
    expect((await sub.nextMatching(aboutMember)).presence.status).toBe('ONLINE');

    memberSub.close();
    await memberWs.dispose();
    expect((await sub.nextMatching(aboutMember)).presence.status).toBe('OFFLINE');
    const { user } = await owner.ok<{ user: any }>(`query($u: ID!) { user(id: $u) { status } }`, { u: member.userId });
    expect(user.status).toBe('OFFLINE');
    sub.close();
    await ownerWs.dispose();
  });
});

describe('connection lifetime', () => {
  it('closes a socket with 4403 when its access token expires', async () => {
    // 2 s: expiry is in whole seconds, so a 1 s token may lapse before the socket connects
    const shortLived = await startTestServer({ env: { ACCESS_TOKEN_TTL_SECONDS: '2' } });
    try {
      const user = await signUp(shortLived.graphqlUrl);
      const { generalId } = await createGuild(user);
      const closed = new Promise<number>((resolve) => {
        const ws = wsClient(shortLived.wsUrl, user.token, { on: { closed: (e) => resolve((e as CloseEvent).code) } });
        subscribe(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: generalId });
      });
      expect(await closed).toBe(4403);
    } finally {
      await shortLived.stop();
    }
  });
});

describe('Server-Sent Events', () => {
  it('streams messageAdded over SSE on /graphql', async () => {
    const controller = new AbortController();
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      signal: controller.signal,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${member.token}`,
      },
      body: JSON.stringify({ query: `subscription($c: ID!) { messageAdded(channelId: $c) { content } }`, variables: { c: channelId } }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await waitForListener(server, 'messageAdded', localId(channelId));
    await send(owner, channelId, 'over sse');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('over sse')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toContain('"content":"over sse"');
    controller.abort();
  });
});
