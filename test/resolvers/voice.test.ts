// Voice end to end through the API: werift client peers join with joinVoiceChannel, take the
// media node's offers from voiceSignals and answer with answerVoiceOffer, as a browser would.
// Embedded: the API's in-process media node. With TEST_REDIS_URL: a node announced in Redis,
// which the API finds with listMediaNodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { RunningMediaNode } from '../../media/src/index.js';
import { startAnnouncedTestNode } from '../media/support/node.js';
import { eventually, rises, stopsRising } from '../media/support/control.js';
import { VoicePeer } from '../media/support/peer.js';
import { type TestServer, startTestServer, usingRedis, waitForListener } from '../support/app.js';
import { type Client, createChannel, guildWithMembers, localId } from '../support/client.js';
import { type Subscription, subscribe, wsClient } from '../support/ws.js';

const MEDIA_SECRET = 'media-secret-for-tests-0123';
let server: TestServer;
let externalNode: RunningMediaNode | undefined;

beforeAll(async () => {
  if (usingRedis) {
    externalNode = await startAnnouncedTestNode(MEDIA_SECRET);
  }
  server = await startTestServer({ env: { MEDIA_SECRET, PRESENCE_TTL_MS: '2000' } });
  // the embedded node starts after the API listens: the first join's 15 s are for the media, not the node's start
  await server.app.mediaReady();
});
afterAll(async () => {
  await server?.stop();
  await externalNode?.stop();
});

const JOIN = `mutation($c: ID!) { joinVoiceChannel(channelId: $c) { sessionId voiceToken } }`;
const SIGNALS = `subscription($s: ID!, $t: String!) { voiceSignals(sessionId: $s, voiceToken: $t) { __typename ... on VoiceOffer { sdp } ... on VoiceClosed { reason } } }`;
const ANSWER = `mutation($s: ID!, $t: String!, $sdp: String!) { answerVoiceOffer(sessionId: $s, voiceToken: $t, sdp: $sdp) }`;
const STATES = `query($c: ID!) { channel(id: $c) { voiceStates { user { id } speaking serverMute serverDeaf } } }`;
const EVENTS = `subscription($g: ID!) { voiceStates(guildId: $g) { kind state { user { id } speaking serverMute } } }`;
const SET = `mutation($g: ID!, $u: ID!, $m: Boolean, $d: Boolean) { setMemberVoiceState(guildId: $g, userId: $u, mute: $m, deaf: $d) { serverMute } }`;

type Signal = { voiceSignals: { __typename: 'VoiceOffer'; sdp: string } | { __typename: 'VoiceClosed'; reason: string } };

/** A participant as a browser would be: its peer answers every offer the API relays. */
class Participant {
  readonly peer: VoicePeer;
  socket?: WebSocket;
  closedReason?: string;
  /** the server completed voiceSignals */
  ended = false;
  offers = 0;
  private readonly ws;
  private signals!: Subscription<Signal>;
  private pumping = true;

  constructor(readonly client: Client) {
    this.peer = new VoicePeer(client.username!);
    this.ws = wsClient(server.wsUrl, client.token, { on: { connected: (socket) => (this.socket = socket as WebSocket) } });
  }

  async join(channelId: string) {
    const { joinVoiceChannel: session } = await this.client.ok<{ joinVoiceChannel: { sessionId: string; voiceToken: string } }>(JOIN, { c: channelId });
    this.signals = subscribe<Signal>(this.ws, SIGNALS, { s: session.sessionId, t: session.voiceToken });
    void this.signals.completed.then(() => {
      this.ended = true;
      this.pumping = false;
    });
    void this.signals.errors.then((errors) => {
      this.closedReason = `error: ${JSON.stringify(errors)}`;
      this.pumping = false;
    });
    void (async () => {
      while (this.pumping) {
        const event = await this.signals.next(120_000).catch(() => null);
        if (!event) continue;
        const signal = event.voiceSignals;
        if (signal.__typename === 'VoiceClosed') {
          this.closedReason = signal.reason;
          this.pumping = false;
          return;
        }
        this.offers++;
        const sdp = await this.peer.answer(signal.sdp);
        await this.client.request(ANSWER, { s: session.sessionId, t: session.voiceToken, sdp });
      }
    })();
    await eventually(`${this.client.username} connected`, () => {
      if (this.closedReason) throw new Error(`voiceSignals: ${this.closedReason}`);
      return this.peer.connectionState === 'connected';
    }, 15_000);
    this.peer.start();
  }

  async close() {
    this.pumping = false;
    await this.peer.close();
    await this.ws.dispose();
  }
}

const inVoice = async (client: Client, channelId: string) =>
  (await client.ok<{ channel: { voiceStates: { user: { id: string } }[] } }>(STATES, { c: channelId })).channel.voiceStates.map((s) => s.user.id);

describe('voice through the API', () => {
  it('forwards between two then three participants; server mute, deafen, disconnect and a dead socket act on the media', { timeout: 120_000 }, async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 3);
    const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
    const [a, b, c] = members.map((m) => new Participant(m)) as [Participant, Participant, Participant];
    const tag = (p: Participant) => p.peer.tag;
    const watcher = wsClient(server.wsUrl, owner.token);
    const events = subscribe<{ voiceStates: { kind: string; state: { user: { id: string }; speaking: boolean } } }>(watcher, EVENTS, { g: guildId });
    await waitForListener(server, 'voiceEvent', localId(guildId));
    try {
      await a.join(voice);
      await b.join(voice);
      await rises('A hears B', () => a.peer.packetsFrom(tag(b)));
      await rises('B hears A', () => b.peer.packetsFrom(tag(a)));

      await c.join(voice);
      for (const [to, from] of [[a, c], [b, c], [c, a], [c, b]] as const) await rises(`${tag(to)} hears ${tag(from)}`, () => to.peer.packetsFrom(tag(from)));
      for (const p of [a, b, c]) expect(p.peer.packetsFrom(tag(p))).toBe(0);
      expect((await inVoice(owner, voice)).sort()).toEqual([a, b, c].map((p) => p.client.userId).sort());

      // speaking, from the audio level in A's packets, reaches voiceStates
      a.peer.level = 20;
      await events.nextMatching((e) => e.voiceStates.kind === 'SPEAKING' && e.voiceStates.state.user.id === a.client.userId && e.voiceStates.state.speaking, 10_000);
      a.peer.level = 127;

      // a moderator's mute of A: the others stop hearing A within 1 s; unmuted, they hear A again
      await owner.ok(SET, { g: guildId, u: a.client.userId, m: true });
      await Promise.all([
        stopsRising('B from A', () => b.peer.packetsFrom(tag(a)), 1000),
        stopsRising('C from A', () => c.peer.packetsFrom(tag(a)), 1000),
      ]);
      await rises('A still hears B', () => a.peer.packetsFrom(tag(b)));
      await owner.ok(SET, { g: guildId, u: a.client.userId, m: false });
      await rises('B hears A again', () => b.peer.packetsFrom(tag(a)));
      await rises('C hears A again', () => c.peer.packetsFrom(tag(a)));

      // deafened, B receives nothing; undeafened, again
      await owner.ok(SET, { g: guildId, u: b.client.userId, d: true });
      await stopsRising('B inbound', () => b.peer.totalInbound(), 1000);
      await rises('A still hears B while B is deafened', () => a.peer.packetsFrom(tag(b)));
      await owner.ok(SET, { g: guildId, u: b.client.userId, d: false });
      await rises('B hears again', () => b.peer.totalInbound());

      // disconnected by a moderator: C's session closes and C leaves voice everywhere
      await owner.ok(`mutation($g: ID!, $u: ID!) { disconnectVoiceMember(guildId: $g, userId: $u) }`, { g: guildId, u: c.client.userId });
      await eventually('C closed', () => c.closedReason === 'DISCONNECTED');
      await events.nextMatching((e) => e.voiceStates.kind === 'LEFT' && e.voiceStates.state.user.id === c.client.userId);
      expect((await inVoice(owner, voice)).sort()).toEqual([a, b].map((p) => p.client.userId).sort());
      await stopsRising('A from C', () => a.peer.packetsFrom(tag(c)), 1500);

      // B's socket dies without a goodbye: B leaves voice, and A stops hearing B
      b.socket!.terminate();
      await events.nextMatching((e) => e.voiceStates.kind === 'LEFT' && e.voiceStates.state.user.id === b.client.userId, 15_000);
      expect(await inVoice(owner, voice)).toEqual([a.client.userId]);
      await stopsRising('A from B', () => a.peer.packetsFrom(tag(b)), 1500);
    } finally {
      events.close();
      await watcher.dispose();
      await Promise.all([a, b, c].map((p) => p.close()));
    }
  });

  it('a mute says at once that the muted participant is no longer speaking (no stale speaking event after it)', { timeout: 60_000 }, async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 2);
    const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
    const [a, b] = members.map((m) => new Participant(m)) as [Participant, Participant];
    const watcher = wsClient(server.wsUrl, owner.token);
    const events = subscribe<{ voiceStates: { kind: string; state: { user: { id: string }; speaking: boolean; serverMute: boolean } } }>(watcher, EVENTS, { g: guildId });
    await waitForListener(server, 'voiceEvent', localId(guildId));
    try {
      await a.join(voice);
      await b.join(voice);
      a.peer.level = 20;
      await events.nextMatching((e) => e.voiceStates.kind === 'SPEAKING' && e.voiceStates.state.user.id === a.client.userId && e.voiceStates.state.speaking, 10_000);
      const muted = await owner.ok<{ setMemberVoiceState: { serverMute: boolean; speaking: boolean } }>(
        `mutation($g: ID!, $u: ID!) { setMemberVoiceState(guildId: $g, userId: $u, mute: true) { serverMute speaking } }`,
        { g: guildId, u: a.client.userId },
      );
      expect(muted.setMemberVoiceState).toEqual({ serverMute: true, speaking: false });
      const updated = await events.nextMatching((e) => e.voiceStates.kind === 'UPDATED' && e.voiceStates.state.user.id === a.client.userId);
      expect(updated.voiceStates.state).toMatchObject({ serverMute: true, speaking: false });
      await eventually('A is not speaking in channel.voiceStates', async () => {
        const { channel } = await owner.ok<{ channel: { voiceStates: { user: { id: string }; speaking: boolean }[] } }>(STATES, { c: voice });
        return channel.voiceStates.find((s) => s.user.id === a.client.userId)?.speaking === false;
      });
    } finally {
      events.close();
      await watcher.dispose();
      await Promise.all([a, b].map((p) => p.close()));
    }
  });

  it('a session never opened lapses within the presence TTL', { timeout: 30_000 }, async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
    await members[0]!.ok(JOIN, { c: voice });
    expect(await inVoice(owner, voice)).toEqual([members[0]!.userId]);
    await eventually('the unopened session lapsed', async () => (await inVoice(owner, voice)).length === 0, 5_000, 100);
  });
});

describe('voice sessions end with access', () => {
  it('a kicked member, and the members of a deleted channel, leave voice', { timeout: 60_000 }, async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 2);
    const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
    const [kicked, stays] = members.map((m) => new Participant(m)) as [Participant, Participant];
    try {
      await kicked.join(voice);
      await stays.join(voice);
      expect((await inVoice(owner, voice)).length).toBe(2);
      await owner.ok(`mutation($g: ID!, $u: ID!) { kickMember(guildId: $g, userId: $u) }`, { g: guildId, u: kicked.client.userId });
      await eventually('the kicked member left voice', async () => (await inVoice(owner, voice)).length === 1);
      await eventually('voiceSignals of the kicked member completed', () => kicked.ended);
      expect(await inVoice(owner, voice)).toEqual([stays.client.userId]);
      await stopsRising('no audio reaches the kicked member', () => kicked.peer.totalInbound(), 1500);

      const [other] = [await createChannel(owner, guildId, 'Other', 'VOICE')];
      await owner.ok(`mutation($c: ID!) { deleteChannel(id: $c) }`, { c: voice });
      await eventually('the voiceSignals of the deleted channel completed', () => stays.ended);
      // out of voice: leaving again finds nothing
      expect((await stays.client.ok<any>(`mutation { leaveVoiceChannel }`)).leaveVoiceChannel).toBe(false);
      expect(await inVoice(owner, other)).toEqual([]);
    } finally {
      await Promise.all([kicked.close(), stays.close()]);
    }
  });
});
