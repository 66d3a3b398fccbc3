// The API on an external media node (MEDIA_URL + MEDIA_SECRET) instead of its in-process one,
// and what happens to the participants when that node goes away: their sessions close
// (TRANSPORT_FAILED) and they leave voice, no ghost left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningMediaNode, loadMediaConfig, startMediaNode } from '../../media/src/index.js';
import { eventually } from '../media/support/control.js';
import { VoicePeer } from '../media/support/peer.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { createChannel, guildWithMembers } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const MEDIA_SECRET = 'external-media-secret-0123';
let node: RunningMediaNode;
let server: TestServer;

beforeAll(async () => {
  node = await startMediaNode(loadMediaConfig({ NODE_ENV: 'test', MEDIA_PORT: '0', MEDIA_SECRET, LOG_LEVEL: 'silent' }));
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
      expect(channel.voiceStates).toEqual([]);
    } finally {
      signals.close();
      await peer.close();
      await ws.dispose();
    }
  });
});
