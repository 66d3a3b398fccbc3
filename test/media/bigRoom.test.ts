// A big room: many werift peers joining at once through the control socket. Every join changes
// every connection of the room; the node batches those changes (one offer per connection for
// what changed while its previous offer was out, or within MEDIA_OFFER_BATCH_MS), so a burst of
// joins costs far fewer offers than one per join per participant, and the room forms.
// The benchmark (BENCH_ONLY=voice) is the proof at 50 across processes; this is the guard.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMediaNode } from '../../media/src/start.js';
import { pool } from '../../bench/lib/util.js';
import { ControlClient, VoiceRoom, eventually } from './support/control.js';
import { TEST_SECRET, startTestNode } from './support/node.js';

const SIZE = 20;
const SPEAKERS = 2;
let media: RunningMediaNode;
let control: ControlClient;

beforeAll(async () => {
  media = await startTestNode({ MEDIA_ICE_TIMEOUT_MS: '60000' });
  control = await ControlClient.connect(media.controlUrl, TEST_SECRET);
});

afterAll(async () => {
  await control?.close();
  await media?.stop();
});

describe(`a room of ${SIZE}`, () => {
  it('forms when its participants join at once, with batched renegotiation, and everyone hears the speakers', { timeout: 120_000 }, async () => {
    const room = new VoiceRoom(control, 'big-room');
    try {
      // four joins in flight at a time, as a busy API instance would relay them
      let retried = 0;
      await pool(SIZE, 4, async (i) => {
        for (let attempt = 1; ; attempt++) {
          try {
            await room.join(`big-${i}`, { level: i < SPEAKERS ? 30 : 127, send: i < SPEAKERS, connectTimeoutMs: 60_000 });
            return;
          } catch (err) {
            // werift's DTLS client (this test's peers, not a browser) now and then fails a
            // handshake the node completed, on a loaded machine: it joins again, as a browser
            // whose connection failed would
            if (attempt >= 3 || !room.peer(`big-${i}`)?.failed) throw err;
            retried++;
            await room.drop(`big-${i}`);
          }
        }
      });
      expect(retried).toBeLessThanOrEqual(3);
      const ids = [...room.peers.keys()];
      // every connection ends with a track for each of the others, and hears the speakers
      await eventually(
        'every peer was offered every other participant',
        () => [...room.peers.values()].every((p) => ids.every((id) => id === p.tag || p.lastOffer.includes(`a=msid:${id} `))),
        60_000,
        50,
      );
      for (const peer of room.peers.values())
        for (let s = 0; s < SPEAKERS; s++)
          if (peer.tag !== `big-${s}`) await eventually(`${peer.tag} hears big-${s}`, () => peer.packetsFrom(`big-${s}`) > 5, 30_000, 50);
      // one offer per join per other participant would be SIZE·(SIZE−1)/2 renegotiations
      expect(room.offersSeen).toBeLessThan((SIZE * (SIZE - 1)) / 2);
      const { participants } = await control.call<{ participants: { state: string }[] }>('stats', { roomId: room.roomId });
      expect(participants.filter((p) => p.state === 'connected')).toHaveLength(SIZE);
    } finally {
      await room.close();
    }
  });
});
