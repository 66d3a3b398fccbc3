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
