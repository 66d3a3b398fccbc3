// With REDIS_URL the API finds its media nodes in Redis (listMediaNodes). A node whose
// announcement expires (crashed, partitioned: here its keys are removed while its control
// socket stays up) loses its participants: their sessions close with TRANSPORT_FAILED and they
// leave voice. Needs a Redis server (see vitest.config.ts).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMediaNode } from '../../media/src/index.js';
import { startAnnouncedTestNode } from '../media/support/node.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { createChannel, guildWithMembers } from '../support/client.js';
import { testRedisKeyPrefix } from '../support/redis.js';
import { subscribe, wsClient } from '../support/ws.js';

const MEDIA_SECRET = 'registry-media-secret-0123';
let node: RunningMediaNode;
let server: TestServer;
const redis = new Redis(process.env.TEST_REDIS_URL!);

beforeAll(async () => {
  node = await startAnnouncedTestNode(MEDIA_SECRET, {
    // refreshed every 20 s: removed keys stay removed through the test
    MEDIA_ANNOUNCE_TTL_MS: '60000',
  });
  server = await startTestServer({ env: { MEDIA_SECRET } });
});
afterAll(async () => {
  await server?.stop();
  await node?.stop();
  redis.disconnect();
});

describe('media nodes announced in Redis', () => {
  it("assigns the channel to the announced node, and drops its participants when the announcement lapses", { timeout: 60_000 }, async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 1);
    const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
    const member = members[0]!;
    const { joinVoiceChannel: s } = await member.ok<any>(`mutation($c: ID!) { joinVoiceChannel(channelId: $c) { sessionId voiceToken } }`, { c: voice });
    const ws = wsClient(server.wsUrl, member.token);
    const signals = subscribe<any>(ws, `subscription($s: ID!, $t: String!) { voiceSignals(sessionId: $s, voiceToken: $t) { __typename ... on VoiceClosed { reason } } }`, {
      s: s.sessionId,
      t: s.voiceToken,
    });
    try {
      expect((await signals.next(10_000)).voiceSignals.__typename).toBe('VoiceOffer');
      expect(node.node.stats().map((p) => p.participantId)).toContain(s.sessionId);
      const localChannelId = Buffer.from(voice, 'base64').toString('utf8').split(':')[1]!;
      expect(await redis.get(`${testRedisKeyPrefix}voice:room:${localChannelId}`)).toBe(node.id);

      // the announcement goes (as if the node had died without a word)
      await redis.multi().del(`${testRedisKeyPrefix}media:node:${node.id}`).zrem(`${testRedisKeyPrefix}media:nodes`, node.id).exec();
      expect((await signals.next(10_000)).voiceSignals).toEqual({ __typename: 'VoiceClosed', reason: 'TRANSPORT_FAILED' });
      const { channel } = await owner.ok<any>(`query($c: ID!) { channel(id: $c) { voiceStates { user { id } } } }`, { c: voice });
      expect(channel.voiceStates).toEqual([]);
    } finally {
      signals.close();
      await ws.dispose();
    }
  });

  it('refuses a join with SERVICE_UNAVAILABLE, at once, when no node is announced', { timeout: 30_000 }, async () => {
    // a deployment of its own (another key prefix) in which no node announced itself
    const lonely = await startTestServer({ env: { MEDIA_SECRET, REDIS_KEY_PREFIX: `${testRedisKeyPrefix}nonodes:` } });
    try {
      const { owner, guildId } = await guildWithMembers(lonely.graphqlUrl, 0);
      const voice = await createChannel(owner, guildId, 'Voice', 'VOICE');
      const started = Date.now();
      const error = await owner.fails('SERVICE_UNAVAILABLE', `mutation($c: ID!) { joinVoiceChannel(channelId: $c) { sessionId } }`, { c: voice });
      expect(error.extensions?.retryAfterMs).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(2_000);
      const { channel } = await owner.ok<any>(`query($c: ID!) { channel(id: $c) { voiceStates { user { id } } } }`, { c: voice });
      expect(channel.voiceStates).toEqual([]);
    } finally {
      await lonely.stop();
    }
  });
});
