import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesGcm128 } from '../../media/src/aesGcm.js';

function reference(key: Buffer, iv: Buffer, aad: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('aes-128-gcm', key, iv);
  c.setAAD(aad);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

describe('AesGcm128', () => {
  it('seals exactly as OpenSSL does, for every AAD and payload length an RTP packet can have', () => {
    for (let n = 0; n < 600; n++) {
      const key = randomBytes(16);
      const iv = randomBytes(12);
      const aad = randomBytes(n % 45);
      const plain = randomBytes((n * 7) % 333);
      const out = Buffer.alloc(plain.length + 16);
      new AesGcm128(key).seal(iv, aad, plain, out, 0);
      expect(out.toString('hex')).toBe(reference(key, iv, aad, plain).toString('hex'));
    }
  });

  it('seals and opens texts longer than its scratch area, in pieces, as OpenSSL does', () => {
    const key = randomBytes(16);
    const iv = randomBytes(12);
    const aad = randomBytes(30);
    for (const length of [8191, 8192, 8193, 20_000]) {
      const plain = randomBytes(length);
      const sealed = reference(key, iv, aad, plain);
      const gcm = new AesGcm128(key);
      const out = Buffer.alloc(length + 16);
      gcm.seal(iv, aad, plain, out, 0);
      expect(out.equals(sealed), `${length} bytes sealed`).toBe(true);
      const opened = Buffer.alloc(length);
      expect(gcm.open(iv, aad, sealed.subarray(0, length), sealed.subarray(length), opened, 0)).toBe(true);
      expect(opened.equals(plain), `${length} bytes opened`).toBe(true);
    }
  });

  it('keeps every key apart when a node holds thousands of them at once', () => {
    // the keys' tables share one WebAssembly memory, which grows as keys are added
    const cases = Array.from({ length: 2000 }, () => ({ key: randomBytes(16), iv: randomBytes(12), aad: randomBytes(12), plain: randomBytes(100) }));
    const ciphers = cases.map((c) => new AesGcm128(c.key));
    cases.forEach((c, i) => {
      const out = Buffer.alloc(116);
      ciphers[i]!.seal(c.iv, c.aad, c.plain, out, 0);
      expect(out.equals(reference(c.key, c.iv, c.aad, c.plain)), `key ${i}`).toBe(true);
    });
  });

  it('opens what OpenSSL sealed, and refuses it with any bit of the AAD, the text or the tag flipped', () => {
    const key = randomBytes(16);
    const iv = randomBytes(12);
    const aad = randomBytes(20);
    const plain = randomBytes(160);
    const sealed = reference(key, iv, aad, plain);
    const gcm = new AesGcm128(key);
    const open = (a: Buffer, s: Buffer) => {
      const out = Buffer.alloc(plain.length);
      return gcm.open(iv, a, s.subarray(0, plain.length), s.subarray(plain.length), out, 0) ? out : undefined;
    };
    expect(open(aad, sealed)?.equals(plain)).toBe(true);
    for (const at of [0, 17, 159, 160, 175]) {
      const tampered = Buffer.from(sealed);
      tampered[at]! ^= 0x01;
      expect(open(aad, tampered), `byte ${at} flipped`).toBeUndefined();
    }
    const badAad = Buffer.from(aad);
    badAad[3]! ^= 0x80;
    expect(open(badAad, sealed)).toBeUndefined();
  });
});
