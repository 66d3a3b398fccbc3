// werift as the node runs it: 0.24.4 with patches/werift+0.24.4.patch applied at install
// (docs/VOICE.md). These pin what the patch must keep or fix on the wire.
import { describe, expect, it } from 'vitest';
import { RTCRtpCodecParameters, RTCRtpSender, RTP_EXTENSION_URI, RtpHeader, RtpPacket, ntpTime, ntpTimeToEpochMs, serializeAbsSendTime } from 'werift';
import { forwardRtp } from '../../media/src/werift.js';

/** A sender as a connected transceiver has it, whose transport keeps what it would encrypt and send. */
function connectedSender(extensions: { id: number; uri: string }[]) {
  const sent: Buffer[] = [];
  const sender = new RTCRtpSender('audio');
  const s = sender as unknown as Record<string, unknown>;
  s.codec = new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 });
  s.mid = '3';
  s.ssrc = 0x11223344;
  s.headerExtensions = extensions;
  s.rtcpRunning = true; // no report timer in a unit test
  s.dtlsTransport = {
    state: 'connected',
    sendRtp(payload: Buffer, header: RtpHeader) {
      sent.push(new RtpPacket(header, payload).serialize());
      return payload.length;
    },
  };
  return { sender, sent };
}

describe('werift, as patched', () => {
  it('stamps packets with a real NTP time, so abs-send-time and sender reports carry the right fraction', () => {
    const before = Date.now();
    const ntp = ntpTime();
    const after = Date.now();
    const ms = ntpTimeToEpochMs(ntp);
    expect(ms).toBeGreaterThanOrEqual(before - 2);
    expect(ms).toBeLessThanOrEqual(after + 2);
    // abs-send-time is 6.18 fixed-point seconds: its fraction must follow the clock's milliseconds
    const fraction = Number(ntp & 0xffffffffn) / 2 ** 32;
    const absSendTime = serializeAbsSendTime(ntp).readUIntBE(0, 3);
    expect(Math.abs((absSendTime & 0x3ffff) / 2 ** 18 - fraction)).toBeLessThan(1e-5);
    expect(Math.abs(fraction * 1000 - (ms % 1000))).toBeLessThan(1);
  });

  it('parses and writes RTP headers bit for bit, with header extensions, csrcs, marker and padding flag', () => {
    const header = new RtpHeader({
      marker: true,
      payloadType: 111,
      sequenceNumber: 65535,
      timestamp: 0xfedcba98,
      ssrc: 0x89abcdef,
      csrc: [1, 0xffffffff],
      extensions: [
        { id: 1, payload: Buffer.from([0x7f]) },
        { id: 3, payload: Buffer.from([0x12, 0x34]) },
      ],
    });
    const bytes = new RtpPacket(header, Buffer.from('opus frame')).serialize();
    expect(bytes[0]).toBe(0b1001_0010); // version 2, no padding, extension, 2 csrcs
    expect(bytes[1]).toBe(0x80 | 111);
    const parsed = RtpPacket.deSerialize(bytes);
    expect(parsed.header).toMatchObject({ version: 2, padding: false, extension: true, marker: true, payloadType: 111, sequenceNumber: 65535, timestamp: 0xfedcba98, ssrc: 0x89abcdef, csrc: [1, 0xffffffff] });
    expect(parsed.header.extensions.map((e) => [e.id, [...e.payload]])).toEqual([
      [1, [0x7f]],
      [3, [0x12, 0x34]],
    ]);
    expect(parsed.payload.toString()).toBe('opus frame');
    // a copy is independent of its original's header
    const copy = parsed.clone();
    copy.header.ssrc = 7;
    expect(parsed.header.ssrc).toBe(0x89abcdef);
    expect(copy.header.sequenceNumber).toBe(65535);
  });

  it('forwards a packet with the bytes and sender counters that werift\'s own sendRtp gives it', async () => {
    const negotiated = [
      { id: 1, uri: RTP_EXTENSION_URI.sdesMid },
      { id: 2, uri: RTP_EXTENSION_URI.audioLevelIndication },
    ];
    const viaWerift = connectedSender(negotiated);
    const viaForward = connectedSender(negotiated);
    const ntp = ntpTime();
    for (const [i, level] of [0x7f, 0x15, 0x80 | 0x20].entries()) {
      const incoming = new RtpPacket(
        new RtpHeader({ marker: i === 0, payloadType: 96, sequenceNumber: 65534 + i, timestamp: 0xffffff00 + 960 * i, ssrc: 0xabcdef01, extensions: [{ id: 1, payload: Buffer.from('0') }, { id: 2, payload: Buffer.from([level]) }] }),
        Buffer.from(`opus frame ${i}`),
      );
      await viaWerift.sender.sendRtp(incoming.clone());
      expect(forwardRtp(viaForward.sender, incoming, ntp)).toBe(true);
    }
    expect(viaForward.sent.map((b) => b.toString('hex'))).toEqual(viaWerift.sent.map((b) => b.toString('hex')));
    for (const counter of ['packetCount', 'octetCount', 'headerBytesSent', 'sequenceNumber', 'timestamp', 'rtpTimestamp'] as const)
      expect((viaForward.sender as unknown as Record<string, unknown>)[counter], counter).toBe((viaWerift.sender as unknown as Record<string, unknown>)[counter]);
  });

  it('leaves a sender with extensions of its own to fill in (transport-cc) to werift', () => {
    const { sender, sent } = connectedSender([
      { id: 1, uri: RTP_EXTENSION_URI.sdesMid },
      { id: 5, uri: RTP_EXTENSION_URI.transportWideCC },
    ]);
    const packet = new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: 1, timestamp: 1, ssrc: 1 }), Buffer.from('x'));
    expect(forwardRtp(sender, packet, ntpTime())).toBe(false);
    expect(sent).toHaveLength(0);
  });

  it('follows a renegotiation that changes what the sender must fill in', () => {
    const { sender, sent } = connectedSender([{ id: 1, uri: RTP_EXTENSION_URI.sdesMid }]);
    const packet = new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: 1, timestamp: 1, ssrc: 1 }), Buffer.from('x'));
    expect(forwardRtp(sender, packet, ntpTime())).toBe(true);
    (sender as unknown as { headerExtensions: unknown[] }).headerExtensions = [
      { id: 1, uri: RTP_EXTENSION_URI.sdesMid },
      { id: 5, uri: RTP_EXTENSION_URI.transportWideCC },
    ];
    expect(forwardRtp(sender, packet, ntpTime())).toBe(false);
    (sender as unknown as { mid: string }).mid = '7';
    (sender as unknown as { headerExtensions: unknown[] }).headerExtensions = [{ id: 1, uri: RTP_EXTENSION_URI.sdesMid }];
    expect(forwardRtp(sender, packet, ntpTime())).toBe(true);
    expect(RtpPacket.deSerialize(sent[1]!).header.extensions.map((e) => e.payload.toString())).toEqual(['7']);
  });
});
