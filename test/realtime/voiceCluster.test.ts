// Voice across instances sharing PostgreSQL and Redis: one voice state per user wherever it
// was made, a moderator's mute reaching the instance that holds the participant's session, and
// a killed instance's participants lapsing within the presence TTL, reported once. Runs only
// where TEST_DATABASE_URL and TEST_REDIS_URL name real servers (see vitest.config.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMediaNode } from '../../media/src/index.js';
import { startAnnouncedTestNode } from '../media/support/node.js';
import { eventually, rises, stopsRising } from '../media/support/control.js';
import { VoicePeer } from '../media/support/peer.js';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, clientWithToken, createChannel, guildWithMembers, localId } from '../support/client.js';
import { startInstanceProcess } from '../support/process.js';
import { subscribe, wsClient } from '../support/ws.js';

const JWT_SECRET = 'test-secret-test-secret-test-secret-0123';
const MEDIA_SECRET = 'media-secret-for-tests-0123';
const JOIN = `mutation($c: ID!) { joinVoiceChannel(channelId: $c) { sessionId voiceToken } }`;
const SIGNALS = `subscription($s: ID!, $t: String!) { voiceSignals(sessionId: $s, voiceToken: $t) { __typename ... on VoiceOffer { sdp } ... on VoiceClosed { reason } } }`;
const ANSWER = `mutation($s: ID!, $t: String!, $sdp: String!) { answerVoiceOffer(sessionId: $s, voiceToken: $t, sdp: $sdp) }`;
const STATES = `query($c: ID!) { channel(id: $c) { voiceStates { user { id } serverMute } } }`;
const EVENTS = `subscription($g: ID!) { voiceStates(guildId: $g) { kind state { user { id } channel { id } } } }`;

let media: RunningMediaNode;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  media = await startAnnouncedTestNode(MEDIA_SECRET);
  a = await startTestServer({ env: { PRESENCE_TTL_MS: '1000', MEDIA_SECRET } });
  b = await startTestServer({ databaseUrl: a.databaseUrl, env: { PRESENCE_TTL_MS: '1000', MEDIA_SECRET } });
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await media?.stop();
});

const inVoice = async (client: Client, channelId: string) =>
  (await client.ok<{ channel: { voiceStates: { user: { id: string }; serverMute: boolean }[] } }>(STATES, { c: channelId })).channel.voiceStates;

/** Joins through `server`, answering every offer through it, as a browser on that instance would. */
async function joinWithPeer(server: { graphqlUrl: string; wsUrl: string }, client: Client, channelId: string, answerVia = server) {
  const viaServer = clientWithToken(answerVia.graphqlUrl, client.token);
  const { joinVoiceChannel: s } = await viaServer.ok<any>(JOIN, { c: channelId });
  const peer = new VoicePeer(client.username!);
  const ws = wsClient(server.wsUrl, client.token);
  const signals = subscribe<any>(ws, SIGNALS, { s: s.sessionId, t: s.voiceToken });
  let open = true;
  void (async () => {
    while (open) {
      const e = await signals.next(60_000).catch(() => null);
      if (!e || e.voiceSignals.__typename !== 'VoiceOffer') continue;
      await viaServer.request(ANSWER, { s: s.sessionId, t: s.voiceToken, sdp: await peer.answer(e.voiceSignals.sdp) });
    }
  })();
  await eventually(`${client.username} connected`, () => peer.connectionState === 'connected', 15_000);
  peer.start();
  return {
    peer,
    async close() {
      open = false;
      await peer.close();
      await ws.dispose();
    },
  };
}

describe('voice on two instances', () => {
  it('keeps one voice state per user, seen the same from both', async () => {
    const { owner, members, guildId } = await guildWithMembers(a.graphqlUrl, 1);
    const [one, two] = [await createChannel(owner, guildId, 'One', 'VOICE'), await createChannel(owner, guildId, 'Two', 'VOICE')];
    const member = members[0]!;
    const ws = wsClient(a.wsUrl, owner.token);
    const events = subscribe<any>(ws, EVENTS, { g: guildId });
    await waitForListener(a, 'voiceEvent', localId(guildId));
    try {
      const viaB = clientWithToken(b.graphqlUrl, member.token);
      await viaB.ok(JOIN, { c: one });
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'JOINED', state: { user: { id: member.userId }, channel: { id: one } } });
      expect((await inVoice(owner, one)).map((s) => s.user.id)).toEqual([member.userId]);
      await member.ok(JOIN, { c: two });
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'LEFT', state: { channel: { id: one } } });
      expect((await events.next()).voiceStates).toMatchObject({ kind: 'JOINED', state: { channel: { id: two } } });
      expect(await inVoice(viaB, one)).toEqual([]);
      expect((await inVoice(viaB, two)).map((s) => s.user.id)).toEqual([member.userId]);
      await viaB.ok(`mutation { leaveVoiceChannel }`);
      expect(await inVoice(owner, two)).toEqual([]);
    } finally {
      events.close();
      await ws.dispose();
    }
  });

  it("relays answers and a moderator's mute to the instance holding the session", { timeout: 90_000 }, async () => {
    const { owner, members, guildId } = await guildWithMembers(a.graphqlUrl, 2);
    const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
    const [x, y] = members as [Client, Client];
    const px = await joinWithPeer(a, x, voice);
    // y's socket is on b, its answers go to a (no sticky sessions): a relays them to b
    const py = await joinWithPeer(b, y, voice, a);
    try {
      await rises('x hears y', () => px.peer.packetsFrom(py.peer.tag));
      await rises('y hears x', () => py.peer.packetsFrom(px.peer.tag));
      // y's session lives on b; the mute is asked of a
      await owner.ok(`mutation($g: ID!, $u: ID!) { setMemberVoiceState(guildId: $g, userId: $u, mute: true) { serverMute } }`, { g: guildId, u: y.userId });
      await stopsRising('x from y', () => px.peer.packetsFrom(py.peer.tag), 1000);
      await rises('y still hears x', () => py.peer.packetsFrom(px.peer.tag));
    } finally {
      await Promise.all([px.close(), py.close()]);
    }
  });

  it('drops the participants of a killed instance within the presence TTL, once', { timeout: 60_000 }, async () => {
    const doomed = await startInstanceProcess({
      DATABASE_URL: a.databaseUrl!,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      JWT_SECRET,
      PRESENCE_TTL_MS: '1000',
      MEDIA_SECRET,
    });
    const { owner, members, guildId } = await guildWithMembers(a.graphqlUrl, 1);
    const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
    const ws = wsClient(a.wsUrl, owner.token);
    const events = subscribe<any>(ws, EVENTS, { g: guildId });
    await waitForListener(a, 'voiceEvent', localId(guildId));
    const member = members[0]!;
    const viaDoomed = clientWithToken(doomed.graphqlUrl, member.token);
    const { joinVoiceChannel: s } = await viaDoomed.ok<any>(JOIN, { c: voice });
    const memberWs = wsClient(doomed.wsUrl, member.token, { retryAttempts: 0, onNonLazyError: () => {} });
    const signals = subscribe<any>(memberWs, SIGNALS, { s: s.sessionId, t: s.voiceToken });
    try {
      expect((await signals.next(10_000)).voiceSignals.__typename).toBe('VoiceOffer');
      expect((await events.next()).voiceStates.kind).toBe('JOINED');
      // the session is held (heartbeats) past the lifetime of an unopened one
      await new Promise((r) => setTimeout(r, 1500));
      expect((await inVoice(owner, voice)).map((v) => v.user.id)).toEqual([member.userId]);

      doomed.proc.kill('SIGKILL');
      expect(await doomed.exited).toBe('SIGKILL');
      expect((await events.nextMatching((e) => e.voiceStates.kind === 'LEFT', 5_000)).voiceStates.state.user.id).toBe(member.userId);
      expect(await inVoice(owner, voice)).toEqual([]);
      // both surviving instances sweep: the departure is reported once
      await new Promise((r) => setTimeout(r, 1000));
      expect(events.pending().filter((e) => e.voiceStates.kind === 'LEFT')).toEqual([]);
    } finally {
      signals.close();
      events.close();
      await Promise.all([ws.dispose(), memberWs.dispose()]);
    }
  });
});
