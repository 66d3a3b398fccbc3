// AES-128-GCM (NIST SP 800-38D) for SRTP packets, with all per-key work done once.
//
// node:crypto has no reusable AEAD context: every packet would pay createCipheriv (a fresh
// OpenSSL context, key schedule and GHASH table) and four more calls across into C++, which
// measured at about a quarter of the media node's CPU per forwarded packet. Here the key
// schedule lives in one persistent AES-ECB cipher that turns each packet's counter blocks into
// keystream in a single call, and GHASH runs in JavaScript over a table made once per key
// (Shoup's 8-bit method: 256 multiples of H, 4 KiB). Callers that know their IVs ahead (SRTP:
// the next sequence numbers) make the keystream of many packets in one call (srtpGcm.ts).
import { type Cipher, createCipheriv } from 'node:crypto';

export const GCM_TAG_LENGTH = 16;

/** What multiplying by x^8 shifts out of the low byte comes back in at the top (x^128 = x^7 + x^2 + x + 1). */
const REDUCE8 = (() => {
  const table = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    // the low byte alone, multiplied by x eight times bit by bit: what is left is its reduction
    // (of the four words only the first and the last are ever non-zero here)
    let v3 = b;
    let v0 = 0;
    for (let i = 0; i < 8; i++) {
      const carry = v3 & 1;
      v3 >>>= 1;
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
    }
    table[b] = v0 >>> 16;
  }
  return table;
})();

export class AesGcm128 {
  private readonly ecb: Cipher;
  /** byte b (as the first byte of an element) times H, four big-endian words per entry */
  private readonly m = new Int32Array(256 * 4);
  private readonly state = new Int32Array(4);
  private readonly lengths = Buffer.alloc(16);
  private readonly partial = Buffer.alloc(16);
  private readonly expected = Buffer.alloc(GCM_TAG_LENGTH);

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError('AES-128-GCM needs a 16-byte key');
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
    const h = this.ecb.update(Buffer.alloc(16));
    const m = this.m;
    // M[0x80] = H; M[0x80 >> k] = H x^k; the rest by linearity
    let w0 = h.readUInt32BE(0);
    let w1 = h.readUInt32BE(4);
    let w2 = h.readUInt32BE(8);
    let w3 = h.readUInt32BE(12);
    for (let bit = 0x80; bit > 0; bit >>= 1) {
      m[bit * 4] = w0;
      m[bit * 4 + 1] = w1;
      m[bit * 4 + 2] = w2;
      m[bit * 4 + 3] = w3;
      const carry = w3 & 1;
      w3 = ((w3 >>> 1) | (w2 << 31)) >>> 0;
      w2 = ((w2 >>> 1) | (w1 << 31)) >>> 0;
      w1 = ((w1 >>> 1) | (w0 << 31)) >>> 0;
      w0 = ((w0 >>> 1) ^ (carry ? 0xe1000000 : 0)) >>> 0;
    }
    for (let b = 2; b < 256; b <<= 1)
      for (let j = 1; j < b; j++)
        for (let w = 0; w < 4; w++) m[(b + j) * 4 + w] = m[b * 4 + w]! ^ m[j * 4 + w]!;
  }

  /** E(K, block) for each 16-byte counter block, in one call. */
  encryptBlocks(counterBlocks: Uint8Array): Buffer {
    return this.ecb.update(counterBlocks);
  }

  /** Encrypts `plain` into `out` at `offset` and writes the tag right after it (any 12-byte IV). */
  seal(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Uint8Array, offset: number): void {
    this.sealWith(this.keystream(iv, plain.length), 0, aad, plain, out, offset);
  }

  /** Checks `tag` and decrypts `cipherText` into `out` at `offset`; false (and nothing written) when the tag is wrong. */
  open(iv: Uint8Array, aad: Uint8Array, cipherText: Uint8Array, tag: Uint8Array, out: Uint8Array, offset: number): boolean {
    return this.openWith(this.keystream(iv, cipherText.length), 0, aad, cipherText, tag, out, offset);
  }

  /** seal() with the keystream made beforehand: E(K, J0) at `ks`, the payload's keystream after it. */
  sealWith(keystream: Uint8Array, ks: number, aad: Uint8Array, plain: Uint8Array, out: Uint8Array, offset: number): void {
    const n = plain.length;
    for (let i = 0; i < n; i++) out[offset + i] = plain[i]! ^ keystream[ks + 16 + i]!;
    this.tag(keystream, ks, aad, out.subarray(offset, offset + n), out, offset + n);
  }

  openWith(keystream: Uint8Array, ks: number, aad: Uint8Array, cipherText: Uint8Array, tag: Uint8Array, out: Uint8Array, offset: number): boolean {
    if (tag.length !== GCM_TAG_LENGTH) return false;
    const expected = this.expected;
    this.tag(keystream, ks, aad, cipherText, expected, 0);
    let diff = 0;
    for (let i = 0; i < GCM_TAG_LENGTH; i++) diff |= expected[i]! ^ tag[i]!;
    if (diff !== 0) return false;
    const n = cipherText.length;
    for (let i = 0; i < n; i++) out[offset + i] = cipherText[i]! ^ keystream[ks + 16 + i]!;
    return true;
  }

  /** E(K, J0) followed by the keystream for `length` bytes, J0 = IV || 1. */
  private keystream(iv: Uint8Array, length: number): Buffer {
    if (iv.length !== 12) throw new RangeError('AES-128-GCM here takes 12-byte IVs');
    const blocks = 1 + Math.ceil(length / 16);
    const c = Buffer.alloc(blocks * 16);
    for (let b = 0; b < blocks; b++) {
      c.set(iv, b * 16);
      c.writeUInt32BE(b + 1, b * 16 + 12);
    }
    return this.ecb.update(c);
  }

  /** GHASH(aad, cipherText) xor E(K, J0), written to out[at..at+16]. */
  private tag(keystream: Uint8Array, ks: number, aad: Uint8Array, cipherText: Uint8Array, out: Uint8Array, at: number): void {
    const state = this.state;
    state.fill(0);
    this.ghash(aad);
    this.ghash(cipherText);
    // bit lengths as two 64-bit big-endian numbers; packets stay far below 2^32 bits
    this.lengths.writeUInt32BE(aad.length * 8, 4);
    this.lengths.writeUInt32BE(cipherText.length * 8, 12);
    this.ghash(this.lengths);
    for (let w = 0; w < 4; w++) {
      const s = state[w]!;
      const o = at + w * 4;
      const k = ks + w * 4;
      out[o] = (s >>> 24) ^ keystream[k]!;
      out[o + 1] = ((s >>> 16) & 0xff) ^ keystream[k + 1]!;
      out[o + 2] = ((s >>> 8) & 0xff) ^ keystream[k + 2]!;
      out[o + 3] = (s & 0xff) ^ keystream[k + 3]!;
    }
  }

  /** state = (state xor block) * H for each 16-byte block of data, the last one zero-padded. */
  private ghash(data: Uint8Array): void {
    const m = this.m;
    const state = this.state;
    let y0 = state[0]!;
    let y1 = state[1]!;
    let y2 = state[2]!;
    let y3 = state[3]!;
    for (let o = 0; o < data.length; o += 16) {
      let x: Uint8Array = data;
      let p = o;
      if (data.length - o < 16) {
        x = this.partial.fill(0);
        x.set(data.subarray(o));
        p = 0;
      }
      y0 ^= (x[p]! << 24) | (x[p + 1]! << 16) | (x[p + 2]! << 8) | x[p + 3]!;
      y1 ^= (x[p + 4]! << 24) | (x[p + 5]! << 16) | (x[p + 6]! << 8) | x[p + 7]!;
      y2 ^= (x[p + 8]! << 24) | (x[p + 9]! << 16) | (x[p + 10]! << 8) | x[p + 11]!;
      y3 ^= (x[p + 12]! << 24) | (x[p + 13]! << 16) | (x[p + 14]! << 8) | x[p + 15]!;
      // Horner over the 16 bytes of y, the last first: z = z x^8 + M[byte]
      let z0 = 0;
      let z1 = 0;
      let z2 = 0;
      let z3 = 0;
      for (let w = 3; w >= 0; w--) {
        const word = w === 3 ? y3 : w === 2 ? y2 : w === 1 ? y1 : y0;
        for (let shift = 0; shift < 32; shift += 8) {
          const low = z3 & 0xff;
          z3 = (z3 >>> 8) | (z2 << 24);
          z2 = (z2 >>> 8) | (z1 << 24);
          z1 = (z1 >>> 8) | (z0 << 24);
          z0 = (z0 >>> 8) ^ (REDUCE8[low]! << 16);
          const e = ((word >>> shift) & 0xff) << 2;
          z0 ^= m[e]!;
          z1 ^= m[e + 1]!;
          z2 ^= m[e + 2]!;
          z3 ^= m[e + 3]!;
        }
      }
      y0 = z0;
      y1 = z1;
      y2 = z2;
      y3 = z3;
    }
    state[0] = y0;
    state[1] = y1;
    state[2] = y2;
    state[3] = y3;
  }
}
