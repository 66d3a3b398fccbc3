// Forwarding as participants notice it: real werift peers in this process, joined through the
// control socket, sending 50 packets/s of Opus-sized RTP to a media node on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMediaNode } from '../../media/src/start.js';
import { ControlClient, type ControlEvent, VoiceRoom, eventually, rises, stopsRising } from './support/control.js';
import { TEST_SECRET, startTestNode } from './support/node.js';

let media: RunningMediaNode;
let control: ControlClient;

beforeAll(async () => {
  media = await startTestNode({ MEDIA_SPEAKING_HOLD_MS: '300' });
  control = await ControlClient.connect(media.controlUrl, TEST_SECRET);
});

afterAll(async () => {
  await control?.close();
  await media?.stop();
});

describe('a voice room', () => {
  const room = () => new VoiceRoom(control, `room-${Math.random().toString(36).slice(2, 8)}`);

  it('forwards everyone to everyone else, never back to the sender, as participants join', async () => {
    const r = room();
    try {
      const a = await r.join('fw-A', { level: 30 });
      const b = await r.join('fw-B', { level: 30 });
      await rises('A hears B', () => a.packetsFrom('fw-B'));
      await rises('B hears A', () => b.packetsFrom('fw-A'));

      const c = await r.join('fw-C', { level: 30 });
      await rises('A hears C', () => a.packetsFrom('fw-C'));
      await rises('B hears C', () => b.packetsFrom('fw-C'));
      await rises('C hears A', () => c.packetsFrom('fw-A'));
      await rises('C hears B', () => c.packetsFrom('fw-B'));

      for (const p of [a, b, c]) expect(p.packetsFrom(p.tag), `${p.tag} hears itself`).toBe(0);
      expect([...a.inbound.keys()].sort()).toEqual(['fw-B', 'fw-C']);

      const { participants } = await control.call<{
        participants: { participantId: string; state: string; received: { packets: number }; negotiating: boolean; pendingForwards: string[] }[];
      }>('stats', { roomId: r.roomId });
      expect(participants.map((p) => p.participantId).sort()).toEqual(['fw-A', 'fw-B', 'fw-C']);
      expect(participants.every((p) => p.state === 'connected' && p.received.packets > 0)).toBe(true);
      // everyone hears everyone: no offer left unanswered, no track left unnegotiated
      for (const p of participants) expect({ id: p.participantId, negotiating: p.negotiating, pending: p.pendingForwards }).toEqual({ id: p.participantId, negotiating: false, pending: [] });
    } finally {
      await r.close();
    }
  });

  it('mute stops a voice at once and unmute brings it back; deafen silences everything for one; leave takes a track away', async () => {
    const r = room();
    try {
      const a = await r.join('m-A');
      const b = await r.join('m-B');
      const c = await r.join('m-C');
      await rises('B hears A', () => b.packetsFrom('m-A'));
      await rises('C hears A', () => c.packetsFrom('m-A'));

      await control.call('setForwarding', { participantId: 'm-A', muted: true, deafened: false });
      await stopsRising('B hearing A after mute', () => b.packetsFrom('m-A'));
      await stopsRising('C hearing A after mute', () => c.packetsFrom('m-A'), 200);
      // A keeps sending meanwhile, and B still hears C
      await rises('B hears C while A is muted', () => b.packetsFrom('m-C'));
      expect(a.sentPackets).toBeGreaterThan(0);

      await control.call('setForwarding', { participantId: 'm-A', muted: false, deafened: false });
      await rises('B hears A after unmute', () => b.packetsFrom('m-A'));
      await rises('C hears A after unmute', () => c.packetsFrom('m-A'));

      await control.call('setForwarding', { participantId: 'm-B', muted: false, deafened: true });
      await stopsRising('B hearing anything while deafened', () => b.totalInbound());
      await rises('A still hears B while B is deafened', () => a.packetsFrom('m-B'));
      await control.call('setForwarding', { participantId: 'm-B', muted: false, deafened: false });
      await rises('B hears again after undeafen', () => b.totalInbound());

      expect(a.lastOffer).toContain('msid:m-C ');
      const offersBefore = r.offersSeen;
      await control.call('leave', { participantId: 'm-C' });
      // werift sends no DTLS close_notify: C's client learns it from the `left` event the API relays
      await eventually("the node reports C's transport closed", () =>
        control.events.some((e) => e.event === 'connection' && e.participantId === 'm-C' && e.state === 'closed'),
      );
      await stopsRising('C hearing anything after leaving', () => c.totalInbound());
      // A and B were offered a session without C, and answered it
      await eventually('A and B got a renegotiation', () => r.offersSeen >= offersBefore + 2);
      await eventually("A's offer no longer carries C", () => !a.lastOffer.includes('msid:m-C '));
      await eventually("B's offer no longer carries C", () => !b.lastOffer.includes('msid:m-C '));
      await stopsRising('A hearing C after C left', () => a.packetsFrom('m-C'));
      await rises('A still hears B after C left', () => a.packetsFrom('m-B'));
      const { participants } = await control.call<{ participants: { participantId: string }[] }>('stats', { roomId: r.roomId });
      expect(participants.map((p) => p.participantId).sort()).toEqual(['m-A', 'm-B']);
      expect(control.events.some((e) => e.event === 'left' && e.participantId === 'm-C' && e.reason === 'left')).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('reports speaking from the audio level in the packets, with a hold before silence', async () => {
    const r = room();
    const speaking = (id: string) => control.events.filter((e): e is ControlEvent => e.event === 'speaking' && e.participantId === id).map((e) => e.speaking);
    try {
      const a = await r.join('s-A', { level: 127 });
      await r.join('s-B', { level: 127 });
      await rises('A is sending', () => r.peer('s-B').packetsFrom('s-A'));
      expect(speaking('s-A')).toEqual([]);

      a.level = 20; // loud: -20 dBov
      await eventually('A is speaking', () => speaking('s-A').at(-1) === true, 3000);
      const loudSince = Date.now();
      a.level = 127; // silence
      await eventually('A stopped speaking', () => speaking('s-A').at(-1) === false, 3000);
      // the hold (300 ms here) keeps a pause between words from flickering
      expect(Date.now() - loudSince).toBeGreaterThanOrEqual(250);
      expect(speaking('s-A')).toEqual([true, false]);
      expect(speaking('s-B')).toEqual([]);

      // a muted speaker is not shown speaking, whatever the packets say
      a.level = 20;
      await eventually('A speaks again', () => speaking('s-A').at(-1) === true, 3000);
      await control.call('setForwarding', { participantId: 's-A', muted: true });
      await eventually('muting ends speaking', () => speaking('s-A').at(-1) === false, 1000);
      const count = speaking('s-A').length;
      await rises('A keeps sending loud packets while muted', () => a.sentPackets, 15);
      expect(speaking('s-A').length).toBe(count);
    } finally {
      await r.close();
    }
  });
});
