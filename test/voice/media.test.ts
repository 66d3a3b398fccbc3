// The API on an external media node (MEDIA_URL + MEDIA_SECRET) instead of its in-process one,
// and what happens to the participants when that node goes away: their sessions close
// (TRANSPORT_FAILED) and they leave voice, no ghost left. A node that cannot be reached (a
// closed port, one that never answers) is SERVICE_UNAVAILABLE, at once, never an internal error.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMediaNode } from '../../media/src/index.js';
import { startTestNode } from '../media/support/node.js';
import { eventually } from '../media/support/control.js';
import { VoicePeer } from '../media/support/peer.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { createChannel, guildWithMembers } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const MEDIA_SECRET = 'external-media-secret-0123';
const JOIN = `mutation($c: ID!) { joinVoiceChannel(channelId: $c) { sessionId voiceToken } }`;
const SIGNALS = `subscription($s: ID!, $t: String!) { voiceSignals(sessionId: $s, voiceToken: $t) { __typename ... on VoiceOffer { sdp } ... on VoiceClosed { reason } } }`;
let node: RunningMediaNode;
let server: TestServer;

beforeAll(async () => {
  node = await startTestNode({ MEDIA_SECRET });
  server = await startTestServer({ env: { MEDIA_URL: node.controlUrl, MEDIA_SECRET } });
});
afterAll(async () => {
  await server?.stop();
  await node?.stop();
});

describe('an external media node', () => {
  it('carries the sessions, and its loss ends them', { timeout: 60_000 }, async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
    const member = members[0]!;
    const { joinVoiceChannel: s } = await member.ok<any>(`mutation($c: ID!) { joinVoiceChannel(channelId: $c) { sessionId voiceToken } }`, { c: voice });
    const ws = wsClient(server.wsUrl, member.token);
    const signals = subscribe<any>(ws, `subscription($s: ID!, $t: String!) { voiceSignals(sessionId: $s, voiceToken: $t) { __typename ... on VoiceOffer { sdp } ... on VoiceClosed { reason } } }`, {
      s: s.sessionId,
      t: s.voiceToken,
    });
    const peer = new VoicePeer('ext');
    // the owner joins now (the node is up) and opens voiceSignals only once it is gone
    const { joinVoiceChannel: late } = await owner.ok<any>(JOIN, { c: voice });
    try {
      const offer = await signals.next(10_000);
      expect(offer.voiceSignals.__typename).toBe('VoiceOffer');
      await member.ok(`mutation($s: ID!, $t: String!, $sdp: String!) { answerVoiceOffer(sessionId: $s, voiceToken: $t, sdp: $sdp) }`, {
        s: s.sessionId,
        t: s.voiceToken,
        sdp: await peer.answer(offer.voiceSignals.sdp),
      });
      await eventually('connected', () => peer.connectionState === 'connected', 15_000);
      const CANDIDATE = `mutation($s: ID!, $t: String!, $c: String) { addVoiceCandidate(sessionId: $s, voiceToken: $t, candidate: $c) }`;
      // the end of candidates, and a candidate the node cannot read
      expect((await member.ok<any>(CANDIDATE, { s: s.sessionId, t: s.voiceToken, c: null })).addVoiceCandidate).toBe(true);
      await member.fails('BAD_USER_INPUT', CANDIDATE, { s: s.sessionId, t: s.voiceToken, c: JSON.stringify({ candidate: 42 }) });
      // the participant is on that node
      expect(node.node.stats().map((p) => p.participantId)).toContain(s.sessionId);

      await node.stop();
      expect((await signals.next(10_000)).voiceSignals).toEqual({ __typename: 'VoiceClosed', reason: 'TRANSPORT_FAILED' });
      await signals.completed;
      const { channel } = await owner.ok<any>(`query($c: ID!) { channel(id: $c) { voiceStates { user { id } } } }`, { c: voice });
      expect(channel.voiceStates.map((v: any) => v.user.id)).toEqual([owner.userId]);

      // the port is closed now: joining is refused at once, retryable
      let started = Date.now();
      const refused = await member.fails('SERVICE_UNAVAILABLE', JOIN, { c: voice });
      expect(refused.extensions?.retryAfterMs).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(2_000);
      // and a session joined while it was up cannot open its signals: the same error, and no state left
      const ownerWs = wsClient(server.wsUrl, owner.token);
      started = Date.now();
      const lateSignals = subscribe<any>(ownerWs, SIGNALS, { s: late.sessionId, t: late.voiceToken });
      try {
        const [error] = await lateSignals.errors;
        expect(error?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
        expect(Date.now() - started).toBeLessThan(2_000);
        await eventually('the late session left voice', async () => (await owner.ok<any>(`query($c: ID!) { channel(id: $c) { voiceStates { user { id } } } }`, { c: voice })).channel.voiceStates.length === 0);
      } finally {
        lateSignals.close();
        await ownerWs.dispose();
      }
    } finally {
      signals.close();
      await peer.close();
      await ws.dispose();
    }
  });

  it('that takes the connection and never answers is SERVICE_UNAVAILABLE after MEDIA_TIMEOUT_MS, not a hang', { timeout: 30_000 }, async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const mute = await startTestServer({ env: { MEDIA_URL: `ws://127.0.0.1:${port}/control`, MEDIA_SECRET, MEDIA_TIMEOUT_MS: '500' } });
    try {
      const { owner, guildId } = await guildWithMembers(mute.graphqlUrl, 0);
      const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
      const started = Date.now();
      await owner.fails('SERVICE_UNAVAILABLE', JOIN, { c: voice });
      expect(Date.now() - started).toBeLessThan(3_000);
      const { channel } = await owner.ok<any>(`query($c: ID!) { channel(id: $c) { voiceStates { user { id } } } }`, { c: voice });
      expect(channel.voiceStates).toEqual([]);
    } finally {
      await mute.stop();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
