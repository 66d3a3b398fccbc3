// werift as the node runs it: 0.24.4 with patches/werift+0.24.4.patch applied at install
// (docs/VOICE.md). These pin what the patch must keep or fix on the wire.
import { describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket, ntpTime, ntpTimeToEpochMs, serializeAbsSendTime } from 'werift';

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
});
