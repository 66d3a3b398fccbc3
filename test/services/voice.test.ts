// Voice state rules through the API: who may join, limits, one channel at a time, mute and
// deafen (own and a moderator's), moves and disconnects, voice tokens, ICE servers.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, createChannel, guildWithMembers, localId, signUp } from '../support/client.js';
import type { RunningMediaNode } from '../../media/src/index.js';
import { startAnnouncedTestNode } from '../media/support/node.js';
import { type TestServer, startTestServer, usingRedis, waitForListener } from '../support/app.js';
import { subscribe, wsClient } from '../support/ws.js';

const MEDIA_SECRET = 'media-secret-for-tests-0123';
let server: TestServer;
// with Redis the API uses the media nodes announced there: one for this file
let media: RunningMediaNode | undefined;
beforeAll(async () => {
  if (usingRedis)
    media = await startAnnouncedTestNode(MEDIA_SECRET);
  server = await startTestServer({
    env: {
      MEDIA_SECRET,
      VOICE_STUN_URLS: 'stun:stun.example.com:3478',
      VOICE_TURN_URLS: 'turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349',
      VOICE_TURN_SECRET: 'turn-secret-turn-secret',
      VOICE_TURN_TTL_SECONDS: '600',
    },
  });
  await server.app.mediaReady();
});
afterAll(async () => {
  await server?.stop();
  await media?.stop();
});

const JOIN = `mutation($c: ID!) { joinVoiceChannel(channelId: $c) { sessionId voiceToken channelId iceServers { urls username credential } } }`;
const STATES = `query($c: ID!) { channel(id: $c) { voiceStates { user { id } channel { id } selfMute selfDeaf serverMute serverDeaf speaking joinedAt } } }`;
const SIGNALS = `subscription($s: ID!, $t: String!) { voiceSignals(sessionId: $s, voiceToken: $t) { __typename ... on VoiceOffer { sdp } ... on VoiceClosed { reason } } }`;
const EVENTS = `subscription($g: ID!) { voiceStates(guildId: $g) { kind previousChannelId state { user { id } channel { id } selfMute selfDeaf serverMute serverDeaf speaking } } }`;

const join = async (client: Client, channelId: string) =>
  (await client.ok<{ joinVoiceChannel: { sessionId: string; voiceToken: string; channelId: string; iceServers: any[] } }>(JOIN, { c: channelId })).joinVoiceChannel;
const states = async (client: Client, channelId: string) =>
  (await client.ok<{ channel: { voiceStates: any[] } }>(STATES, { c: channelId })).channel.voiceStates;

async function voiceGuild(members = 2) {
  const g = await guildWithMembers(server.graphqlUrl, members);
  const voice = await createChannel(g.owner, g.guildId, 'Voice', 'VOICE');
  const other = await createChannel(g.owner, g.guildId, 'Other voice', 'VOICE');
  return { ...g, voice, other };
}

describe('joining', () => {
  it('needs membership, a voice channel and CONNECT', async () => {
    const { owner, members, voice, generalId } = await voiceGuild(1);
    const stranger = await signUp(server.graphqlUrl);
    await stranger.fails('NOT_FOUND', JOIN, { c: voice });
    await members[0]!.fails('BAD_USER_INPUT', JOIN, { c: generalId });
    await owner.ok(
      `mutation($c: ID!, $u: ID!) { setChannelPermissionOverwrite(channelId: $c, targetType: MEMBER, targetId: $u, allow: [], deny: [CONNECT]) { targetId } }`,
      { c: voice, u: members[0]!.userId },
    );
    await members[0]!.fails('FORBIDDEN', JOIN, { c: voice });
    // invisible is not found, whatever CONNECT says
    await owner.ok(
      `mutation($c: ID!, $u: ID!) { setChannelPermissionOverwrite(channelId: $c, targetType: MEMBER, targetId: $u, allow: [CONNECT], deny: [VIEW_CHANNEL]) { targetId } }`,
      { c: voice, u: members[0]!.userId },
    );
    await members[0]!.fails('NOT_FOUND', JOIN, { c: voice });
    expect(await states(owner, voice)).toEqual([]);
  });

  it('keeps to the user limit unless MOVE_MEMBERS, and validates the settings', async () => {
    const { owner, members, voice, guildId, generalId } = await voiceGuild(2);
    const update = `mutation($id: ID!, $input: UpdateChannelInput!) { updateChannel(id: $id, input: $input) { userLimit bitrate } }`;
    await owner.fails('BAD_USER_INPUT', update, { id: voice, input: { userLimit: 100 } });
    await owner.fails('BAD_USER_INPUT', update, { id: voice, input: { bitrate: 7999 } });
    await owner.fails('BAD_USER_INPUT', update, { id: generalId, input: { userLimit: 2 } });
    await members[0]!.fails('FORBIDDEN', update, { id: voice, input: { userLimit: 1 } });
    expect((await owner.ok<any>(update, { id: voice, input: { userLimit: 1, bitrate: 96000 } })).updateChannel).toEqual({ userLimit: 1, bitrate: 96000 });
    const created = await owner.ok<any>(
      `mutation($input: CreateChannelInput!) { createChannel(input: $input) { userLimit bitrate } }`,
      { input: { guildId, name: 'Small', type: 'VOICE', userLimit: 5 } },
    );
    expect(created.createChannel).toEqual({ userLimit: 5, bitrate: 64000 });

    await join(members[0]!, voice);
    await members[1]!.fails('CONFLICT', JOIN, { c: voice });
    // joining again where you are is no extra participant
    await join(members[0]!, voice);
    // the owner holds every permission, MOVE_MEMBERS among them
    await join(owner, voice);
    expect((await states(owner, voice)).map((s) => s.user.id).sort()).toEqual([members[0]!.userId, owner.userId].sort());
  });

  it('lets exactly userLimit of many concurrent joins in, the others CONFLICT', async () => {
    const { owner, members, voice } = await voiceGuild(6);
    await owner.ok(`mutation($id: ID!) { updateChannel(id: $id, input: { userLimit: 2 }) { userLimit } }`, { id: voice });
    const results = await Promise.all(members.map((m) => m.request<any>(JOIN, { c: voice })));
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'CONFLICT', 'OK', 'OK']);
    const joined = members.filter((_, i) => !results[i]!.errors).map((m) => m.userId);
    expect((await states(owner, voice)).map((s) => s.user.id).sort()).toEqual(joined.sort());
    // a place taken is given back by leaving
    const inside = members.find((m) => m.userId === joined[0])!;
    const outside = members.find((m) => !joined.includes(m.userId))!;
    await inside.ok(`mutation { leaveVoiceChannel }`);
    await join(outside, voice);
  });

  it('is in one voice channel at a time; leaving leaves', async () => {
    const { owner, members, voice, other } = await voiceGuild(1);
    const a = members[0]!;
    await join(a, voice);
    expect((await states(owner, voice)).map((s) => s.user.id)).toEqual([a.userId]);
    const viewed = await owner.ok<any>(`query($u: ID!) { node(id: $u) { ... on User { voiceChannel { id } } } }`, { u: a.userId });
    expect(viewed.node.voiceChannel.id).toBe(voice);
    await join(a, other);
    expect(await states(owner, voice)).toEqual([]);
    expect((await states(owner, other)).map((s) => s.user.id)).toEqual([a.userId]);
    // a stranger does not see where they are
    const stranger = await signUp(server.graphqlUrl);
    const hidden = await stranger.request<any>(`query($u: ID!) { node(id: $u) { ... on User { voiceChannel { id } } } }`, { u: a.userId });
    expect(hidden.data?.node?.voiceChannel ?? null).toBeNull();
    expect((await a.ok<any>(`mutation { leaveVoiceChannel }`)).leaveVoiceChannel).toBe(true);
    expect((await a.ok<any>(`mutation { leaveVoiceChannel }`)).leaveVoiceChannel).toBe(false);
    expect(await states(owner, other)).toEqual([]);
    const after = await owner.ok<any>(`query($u: ID!) { node(id: $u) { ... on User { voiceChannel { id } } } }`, { u: a.userId });
    expect(after.node.voiceChannel).toBeNull();
  });
});

describe('mute, deafen, move, disconnect', () => {
  it('show in voiceStates and in the voiceStates subscription, moderators within the hierarchy', async () => {
    const { owner, members, voice, other, guildId } = await voiceGuild(2);
    const [a, b] = members as [Client, Client];
    const ws = wsClient(server.wsUrl, owner.token);
    const events = subscribe<{ voiceStates: any }>(ws, EVENTS, { g: guildId });
    await waitForListener(server, 'voiceEvent', localId(guildId));
    try {
      await join(a, voice);
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'JOINED', state: { user: { id: a.userId }, channel: { id: voice }, selfMute: false } });

      await a.ok(`mutation { setVoiceState(selfMute: true) { selfMute } }`);
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'UPDATED', state: { selfMute: true, selfDeaf: false } });
      await a.ok(`mutation { setVoiceState(selfDeaf: true) { selfDeaf } }`);
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'UPDATED', state: { selfMute: true, selfDeaf: true } });

      const SET = `mutation($g: ID!, $u: ID!, $m: Boolean, $d: Boolean) { setMemberVoiceState(guildId: $g, userId: $u, mute: $m, deaf: $d) { serverMute serverDeaf } }`;
      // b holds no moderation permission
      await b.fails('FORBIDDEN', SET, { g: guildId, u: a.userId, m: true });
      // nobody in voice
      await owner.fails('NOT_FOUND', SET, { g: guildId, u: b.userId, m: true });
      await owner.ok(SET, { g: guildId, u: a.userId, m: true, d: true });
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'UPDATED', state: { serverMute: true, serverDeaf: true } });
      expect((await states(owner, voice))[0]).toMatchObject({ selfMute: true, selfDeaf: true, serverMute: true, serverDeaf: true, speaking: false });

      // a moderator below the owner in rank cannot act on the owner
      const { createRole } = await owner.ok<any>(`mutation($g: ID!) { createRole(input: { guildId: $g, name: "mods", permissions: [MUTE_MEMBERS, MOVE_MEMBERS] }) { id } }`, { g: guildId });
      await owner.ok(`mutation($g: ID!, $r: ID!, $u: ID!) { assignRole(guildId: $g, roleId: $r, userId: $u) { user { id } } }`, { g: guildId, r: createRole.id, u: b.userId });
      await join(owner, voice);
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'JOINED', state: { user: { id: owner.userId } } });
      await b.fails('FORBIDDEN', SET, { g: guildId, u: owner.userId, m: true });
      // MUTE_MEMBERS is not DEAFEN_MEMBERS
      await b.fails('FORBIDDEN', SET, { g: guildId, u: a.userId, d: false });
      await b.ok(SET, { g: guildId, u: a.userId, m: false });
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'UPDATED', state: { user: { id: a.userId }, serverMute: false, serverDeaf: true } });

      // a server mute follows the member to another channel of the guild, and to a new session in the same one
      await owner.ok(SET, { g: guildId, u: a.userId, m: true });
      await events.next();
      await join(a, other);
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'LEFT', state: { user: { id: a.userId }, channel: { id: voice } } });
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'JOINED', state: { user: { id: a.userId }, channel: { id: other }, serverMute: true } });
      await join(a, voice);
      await events.next();
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'JOINED', state: { channel: { id: voice }, serverMute: true } });
      await join(a, voice);
      expect((await states(owner, voice)).find((s) => s.user.id === a.userId)).toMatchObject({ serverMute: true });
      // and past leaving voice: it stays on the member until lifted
      await a.ok(`mutation { leaveVoiceChannel }`);
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'LEFT', state: { user: { id: a.userId } } });
      await join(a, voice);
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'JOINED', state: { user: { id: a.userId }, serverMute: true, serverDeaf: true } });

      const MOVE = `mutation($g: ID!, $u: ID!, $c: ID!) { moveVoiceMember(guildId: $g, userId: $u, channelId: $c) { channel { id } } }`;
      await b.fails('FORBIDDEN', MOVE, { g: guildId, u: owner.userId, c: other });
      await b.ok(MOVE, { g: guildId, u: a.userId, c: other });
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'MOVED', previousChannelId: voice, state: { user: { id: a.userId }, channel: { id: other } } });
      expect((await states(owner, other)).map((s) => s.user.id)).toEqual([a.userId]);
      expect((await states(owner, voice)).map((s) => s.user.id)).toEqual([owner.userId]);

      const DISCONNECT = `mutation($g: ID!, $u: ID!) { disconnectVoiceMember(guildId: $g, userId: $u) }`;
      await a.fails('FORBIDDEN', DISCONNECT, { g: guildId, u: owner.userId });
      await owner.ok(DISCONNECT, { g: guildId, u: a.userId });
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'LEFT', state: { user: { id: a.userId }, channel: { id: other } } });
      expect(await states(owner, other)).toEqual([]);
      await owner.fails('NOT_FOUND', DISCONNECT, { g: guildId, u: a.userId });
    } finally {
      events.close();
      await ws.dispose();
    }
  });

  it('moves only into a channel the member may connect to, within its user limit unless MOVE_MEMBERS there', async () => {
    const { owner, members, voice, other, guildId } = await voiceGuild(3);
    const [mod, a, b] = members as [Client, Client, Client];
    const MOVE = `mutation($g: ID!, $u: ID!, $c: ID!) { moveVoiceMember(guildId: $g, userId: $u, channelId: $c) { channel { id } } }`;
    const OVERWRITE = `mutation($c: ID!, $u: ID!, $allow: [Permission!]!, $deny: [Permission!]!) { setChannelPermissionOverwrite(channelId: $c, targetType: MEMBER, targetId: $u, allow: $allow, deny: $deny) { targetId } }`;
    const { createRole } = await owner.ok<any>(`mutation($g: ID!) { createRole(input: { guildId: $g, name: "movers", permissions: [MOVE_MEMBERS] }) { id } }`, { g: guildId });
    await owner.ok(`mutation($g: ID!, $r: ID!, $u: ID!) { assignRole(guildId: $g, roleId: $r, userId: $u) { user { id } } }`, { g: guildId, r: createRole.id, u: mod.userId });
    await join(a, voice);

    // a may not connect to `other`: no move there, by anyone (the owner neither)
    await owner.ok(OVERWRITE, { c: other, u: a.userId, allow: [], deny: ['CONNECT'] });
    await mod.fails('FORBIDDEN', MOVE, { g: guildId, u: a.userId, c: other });
    await owner.fails('FORBIDDEN', MOVE, { g: guildId, u: a.userId, c: other });
    // nor view it
    await owner.ok(OVERWRITE, { c: other, u: a.userId, allow: ['CONNECT'], deny: ['VIEW_CHANNEL'] });
    await owner.fails('FORBIDDEN', MOVE, { g: guildId, u: a.userId, c: other });
    expect((await states(owner, voice)).map((s) => s.user.id)).toEqual([a.userId]);
    await owner.ok(`mutation($c: ID!, $u: ID!) { deleteChannelPermissionOverwrite(channelId: $c, targetType: MEMBER, targetId: $u) { id } }`, { c: other, u: a.userId });

    // other is full (1: b): the mover's MOVE_MEMBERS in it lets them exceed it ...
    await owner.ok(`mutation($id: ID!) { updateChannel(id: $id, input: { userLimit: 1 }) { userLimit } }`, { id: other });
    await join(b, other);
    await mod.ok(MOVE, { g: guildId, u: a.userId, c: other });
    expect((await states(owner, other)).map((s) => s.user.id).sort()).toEqual([a.userId, b.userId].sort());
    await mod.ok(MOVE, { g: guildId, u: a.userId, c: voice });
    // ... and without it there (an overwrite takes it away), the limit holds
    await owner.ok(OVERWRITE, { c: other, u: mod.userId, allow: [], deny: ['MOVE_MEMBERS'] });
    await mod.fails('CONFLICT', MOVE, { g: guildId, u: a.userId, c: other });
    expect((await states(owner, voice)).map((s) => s.user.id)).toEqual([a.userId]);
    // the mover must be able to connect there too
    await owner.ok(OVERWRITE, { c: other, u: mod.userId, allow: [], deny: ['CONNECT'] });
    await mod.fails('FORBIDDEN', MOVE, { g: guildId, u: a.userId, c: other });
  });

  it("voiceStates leaves out the channels the subscriber may not view", async () => {
    const { owner, members, voice, other, guildId } = await voiceGuild(2);
    const [a, b] = members as [Client, Client];
    await owner.ok(
      `mutation($c: ID!, $u: ID!) { setChannelPermissionOverwrite(channelId: $c, targetType: MEMBER, targetId: $u, allow: [], deny: [VIEW_CHANNEL]) { targetId } }`,
      { c: voice, u: b.userId },
    );
    const ws = wsClient(server.wsUrl, b.token);
    const events = subscribe<{ voiceStates: any }>(ws, EVENTS, { g: guildId });
    await waitForListener(server, 'voiceEvent', localId(guildId));
    try {
      await join(a, voice);
      await a.ok(`mutation { setVoiceState(selfMute: true) { selfMute } }`);
      await join(owner, other);
      // the first event b receives is the owner's, in the channel b may view
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'JOINED', state: { user: { id: owner.userId }, channel: { id: other } } });
      expect(events.pending()).toEqual([]);
      await b.fails('NOT_FOUND', STATES, { c: voice });
    } finally {
      events.close();
      await ws.dispose();
    }
  });

  it('voiceStates is for members and ends when they are removed', async () => {
    const { owner, members, guildId } = await voiceGuild(1);
    const stranger = await signUp(server.graphqlUrl);
    const ws1 = wsClient(server.wsUrl, stranger.token);
    const denied = subscribe(ws1, EVENTS, { g: guildId });
    expect((await denied.errors)[0]?.extensions?.code).toBe('NOT_FOUND');
    await ws1.dispose();

    const ws2 = wsClient(server.wsUrl, members[0]!.token);
    const events = subscribe(ws2, EVENTS, { g: guildId });
    await waitForListener(server, 'voiceEvent', localId(guildId));
    await owner.ok(`mutation($g: ID!, $u: ID!) { kickMember(guildId: $g, userId: $u) }`, { g: guildId, u: members[0]!.userId });
    await events.completed;
    await ws2.dispose();
  });
});

describe('voice sessions', () => {
  it('hands out ICE servers with time-limited TURN credentials', async () => {
    const { members, voice } = await voiceGuild(1);
    const session = await join(members[0]!, voice);
    expect(session.iceServers[0]).toEqual({ urls: ['stun:stun.example.com:3478'], username: null, credential: null });
    const turn = session.iceServers[1];
    expect(turn.urls).toEqual(['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349']);
    const [expiry, user] = turn.username.split(':');
    expect(user).toBe(localId(members[0]!.userId!));
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(590);
    expect(Number(expiry) - Date.now() / 1000).toBeLessThanOrEqual(601);
    expect(turn.credential).toBe(createHmac('sha1', 'turn-secret-turn-secret').update(turn.username).digest('base64'));
  });

  it('opens only the session and channel its token is for', async () => {
    const { owner, members, voice, other } = await voiceGuild(1);
    const a = members[0]!;
    const first = await join(a, voice);
    const second = await join(a, other);
    const ANSWER = `mutation($s: ID!, $t: String!) { answerVoiceOffer(sessionId: $s, voiceToken: $t, sdp: "v=0") }`;
    // the first session's token does not open the second session, nor the reverse
    await a.fails('FORBIDDEN', ANSWER, { s: second.sessionId, t: first.voiceToken });
    await a.fails('FORBIDDEN', ANSWER, { s: first.sessionId, t: second.voiceToken });
    // nor does anyone else's
    const ownerSession = await join(owner, other);
    await a.fails('FORBIDDEN', ANSWER, { s: second.sessionId, t: ownerSession.voiceToken });
    await owner.fails('FORBIDDEN', ANSWER, { s: second.sessionId, t: second.voiceToken });
    await a.fails('FORBIDDEN', ANSWER, { s: second.sessionId, t: 'not.a.token' });
    // the first session is over (replaced by the join elsewhere)
    await a.fails('NOT_FOUND', ANSWER, { s: first.sessionId, t: first.voiceToken });

    const ws = wsClient(server.wsUrl, a.token);
    const wrong = subscribe(ws, SIGNALS, { s: second.sessionId, t: first.voiceToken });
    expect((await wrong.errors)[0]?.extensions?.code).toBe('FORBIDDEN');
    // the right token opens it, once
    const right = subscribe<any>(ws, SIGNALS, { s: second.sessionId, t: second.voiceToken });
    expect((await right.next(10_000)).voiceSignals.__typename).toBe('VoiceOffer');
    const again = subscribe(ws, SIGNALS, { s: second.sessionId, t: second.voiceToken });
    expect((await again.errors)[0]?.extensions?.code).toBe('CONFLICT');
    right.close();
    await ws.dispose();
  });
});
