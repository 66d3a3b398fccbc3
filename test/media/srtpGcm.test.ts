import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RtpHeader, SrtpSession } from 'werift';
import { SrtpAesGcm } from '../../media/src/srtpGcm.js';
import '../../media/src/werift.js';

/** RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) xor salt, then plain AES-GCM. */
function reference(key: Buffer, salt: Buffer, ssrc: number, roc: number, seq: number, header: Buffer, payload: Buffer): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(roc >>> 0, 6);
  iv.writeUInt16BE(seq, 10);
  for (let i = 0; i < 12; i++) iv[i]! ^= salt[i]!;
  const c = createCipheriv('aes-128-gcm', key, iv);
  c.setAAD(header);
  return Buffer.concat([header, c.update(payload), c.final(), c.getAuthTag()]);
}

describe('SrtpAesGcm', () => {
  it('protects a stream as RFC 7714 says, across the rollover, with late packets and a sudden larger one', () => {
    const key = randomBytes(16);
    const salt = randomBytes(12);
    const srtp = new SrtpAesGcm(key, salt);
    const ssrc = 0xdeadbeef;
    let index = 65_520;
    for (let n = 0; n < 400; n++) {
      index += n % 37 === 0 ? -6 : 1; // now and then six back: outside the batch made ahead
      const roc = Math.floor(index / 65536);
      const seq = index % 65536;
      const header = randomBytes(12 + (n % 3) * 4);
      const payload = randomBytes(n % 50 === 0 ? 900 : 80 + (n % 90));
      const expected = reference(key, salt, ssrc, roc, seq, header, payload);
      expect(srtp.encrypt(header, payload, ssrc, roc, seq).equals(expected), `packet ${n}`).toBe(true);
      expect(srtp.decrypt(expected, header.length, ssrc, roc, seq)?.equals(Buffer.concat([header, payload]))).toBe(true);
      const tampered = Buffer.from(expected);
      tampered[header.length]! ^= 0x04;
      expect(srtp.decrypt(tampered, header.length, ssrc, roc, seq)).toBeUndefined();
      // the same packet under another sequence number does not authenticate either
      expect(srtp.decrypt(expected, header.length, ssrc, roc, (seq + 1) % 65536)).toBeUndefined();
    }
  });

  it("is what werift's GCM sessions use once the node is loaded: the same bytes, and each side opens the other's", () => {
    const keys = { localMasterKey: randomBytes(16), localMasterSalt: randomBytes(12), remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(12) };
    type Config = ConstructorParameters<typeof SrtpSession>[0];
    const a = new SrtpSession({ keys, profile: 7 } as Config);
    const b = new SrtpSession({
      keys: { localMasterKey: keys.remoteMasterKey, localMasterSalt: keys.remoteMasterSalt, remoteMasterKey: keys.localMasterKey, remoteMasterSalt: keys.localMasterSalt },
      profile: 7,
    } as Config);
    const session = (ctx: unknown) => ctx as { srtpSessionKey: Buffer; srtpSessionSalt: Buffer; decryptRtp(b: Buffer): [Buffer, RtpHeader] };
    for (let seq = 65_530; seq < 65_550; seq++) {
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq % 65536, timestamp: seq * 960, ssrc: 0x1234, marker: seq === 65_530, extensions: [{ id: 1, payload: Buffer.from([0x30]) }] });
      const payload = randomBytes(120);
      const sent = a.encrypt(payload, header);
      expect((a.localContext as unknown as { cipher: { __fastGcm?: true } }).cipher.__fastGcm).toBe(true);
      const local = session(a.localContext);
      const roc = seq >= 65_536 ? 1 : 0;
      expect(sent.equals(reference(local.srtpSessionKey, local.srtpSessionSalt, 0x1234, roc, seq % 65536, header.serialize(header.serializeSize), payload))).toBe(true);
      const [plain, parsed] = session(b.remoteContext).decryptRtp(sent);
      expect(plain.subarray(parsed.payloadOffset).equals(payload)).toBe(true);
      expect(parsed.sequenceNumber).toBe(seq % 65536);
      const forged = Buffer.from(sent);
      forged[forged.length - 1]! ^= 1;
      expect(() => session(b.remoteContext).decryptRtp(forged)).toThrow(/authenticate/);
    }
  });
});
