// AES-128-GCM (NIST SP 800-38D) for SRTP packets, with all per-key work done once.
//
// node:crypto has no reusable AEAD context: every packet would pay createCipheriv (a fresh
// OpenSSL context, key schedule and GHASH table) and four more calls across into C++, which
// measured at about a quarter of the media node's CPU per forwarded packet. Here the key
// schedule lives in one persistent AES-ECB cipher that turns each packet's counter blocks into
// keystream in a single call, and GHASH runs in WebAssembly (ghash.wat) over a table of 16
// multiples of H made once per key (Shoup's 4-bit method): 256 bytes, so that the tables of a
// node's hundreds of sessions stay in cache. Callers that know their IVs ahead (SRTP: the next
// sequence numbers) make the keystream of many packets in one call (srtpGcm.ts).
import { type Cipher, createCipheriv } from 'node:crypto';
import { GHASH_WASM } from './ghashWasm.js';

export const GCM_TAG_LENGTH = 16;

// the kernel's memory: the GHASH state, the lengths block, the nibble reductions, two scratch
// areas (text, keystream) and then the keys' tables, TABLE_BYTES each
const STATE = 0;
const LENGTHS = 16;
const REDUCE = 128;
const SCRATCH = 1024;
const CHUNK = 8192;
const KEYSTREAM = SCRATCH + CHUNK + 16;
const TABLES = KEYSTREAM + CHUNK + 16;
const TABLE_BYTES = 256;
const PAGE = 65536;

interface GhashExports {
  memory: WebAssembly.Memory;
  ghash(table: number, data: number, length: number): void;
  xor(dst: number, a: number, b: number, length: number): void;
}

/** The one WebAssembly instance of the process and the key tables it holds. */
class GhashKernel {
  readonly exports: GhashExports;
  u8: Uint8Array;
  dv: DataView;
  private readonly free: number[] = [];
  private next = TABLES;
  private readonly released = new FinalizationRegistry<number>((table) => this.free.push(table));

  constructor() {
    this.exports = new WebAssembly.Instance(new WebAssembly.Module(GHASH_WASM)).exports as unknown as GhashExports;
    this.u8 = new Uint8Array(this.exports.memory.buffer);
    this.dv = new DataView(this.exports.memory.buffer);
    this.ensure(TABLES);
    for (let n = 0; n < 16; n++) {
      // the low nibble alone, multiplied by x four times bit by bit: what is left is its
      // reduction, all in the top word
      let v3 = n;
      let v0 = 0;
      for (let i = 0; i < 4; i++) {
        const carry = v3 & 1;
        v3 >>>= 1;
        v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
      }
      this.dv.setUint32(REDUCE + n * 8, 0, true);
      this.dv.setUint32(REDUCE + n * 8 + 4, v0 >>> 0, true);
    }
  }

  /** A table's place for `owner`, given back once the owner is collected. */
  allocate(owner: object): number {
    const table = this.free.pop() ?? (this.next += TABLE_BYTES) - TABLE_BYTES;
    this.ensure(table + TABLE_BYTES);
    this.released.register(owner, table);
    return table;
  }

  private ensure(bytes: number) {
    const memory = this.exports.memory;
    if (memory.buffer.byteLength >= bytes) return;
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    // growing detaches the old buffer: new views
    this.u8 = new Uint8Array(memory.buffer);
    this.dv = new DataView(memory.buffer);
  }
}

let kernel: GhashKernel | undefined;

/** data[at..at+len], without a new view when that is all of it */
const piece = (data: Uint8Array, at: number, len: number) => (at === 0 && len === data.length ? data : data.subarray(at, at + len));

export class AesGcm128 {
  private readonly ecb: Cipher;
  private readonly k: GhashKernel;
  private readonly table: number;

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError('AES-128-GCM needs a 16-byte key');
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
    const h = this.ecb.update(Buffer.alloc(16));
    this.k = kernel ??= new GhashKernel();
    this.table = this.k.allocate(this);
    // M[8] = H; M[8 >> k] = H x^k; the rest by linearity; four big-endian words per entry
    const m = new Uint32Array(16 * 4);
    let w0 = h.readUInt32BE(0);
    let w1 = h.readUInt32BE(4);
    let w2 = h.readUInt32BE(8);
    let w3 = h.readUInt32BE(12);
    for (let bit = 8; bit > 0; bit >>= 1) {
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
    for (let b = 2; b < 16; b <<= 1) for (let j = 1; j < b; j++) for (let w = 0; w < 4; w++) m[(b + j) * 4 + w] = m[b * 4 + w]! ^ m[j * 4 + w]!;
    // the kernel reads each entry as two little-endian 64-bit numbers, the high half first
    const dv = this.k.dv;
    for (let n = 0; n < 16; n++) {
      const e = this.table + n * 16;
      dv.setUint32(e, m[n * 4 + 1]!, true);
      dv.setUint32(e + 4, m[n * 4]!, true);
      dv.setUint32(e + 8, m[n * 4 + 3]!, true);
      dv.setUint32(e + 12, m[n * 4 + 2]!, true);
    }
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
    const k = this.k;
    k.u8.fill(0, STATE, STATE + 16);
    this.absorb(aad);
    const n = plain.length;
    for (let o = 0; o < n; o += CHUNK) {
      const len = Math.min(CHUNK, n - o);
      k.u8.set(piece(plain, o, len), SCRATCH);
      this.xorScratch(keystream, ks + 16 + o, len);
      out.set(k.u8.subarray(SCRATCH, SCRATCH + len), offset + o);
      this.absorbScratch(len);
    }
    this.finish(aad.length, n);
    const u8 = k.u8;
    const at = offset + n;
    for (let i = 0; i < 16; i++) out[at + i] = u8[STATE + i]! ^ keystream[ks + i]!;
  }

  openWith(keystream: Uint8Array, ks: number, aad: Uint8Array, cipherText: Uint8Array, tag: Uint8Array, out: Uint8Array, offset: number): boolean {
    if (tag.length !== GCM_TAG_LENGTH) return false;
    const k = this.k;
    k.u8.fill(0, STATE, STATE + 16);
    this.absorb(aad);
    const n = cipherText.length;
    // one chunk (every packet that fits a UDP datagram of a sane MTU) stays in the scratch
    // area between the check and the decryption
    this.absorb(cipherText);
    this.finish(aad.length, n);
    const u8 = k.u8;
    let diff = 0;
    for (let i = 0; i < GCM_TAG_LENGTH; i++) diff |= u8[STATE + i]! ^ keystream[ks + i]! ^ tag[i]!;
    if (diff !== 0) return false;
    for (let o = 0; o < n; o += CHUNK) {
      const len = Math.min(CHUNK, n - o);
      if (n > CHUNK) u8.set(piece(cipherText, o, len), SCRATCH);
      this.xorScratch(keystream, ks + 16 + o, len);
      out.set(u8.subarray(SCRATCH, SCRATCH + len), offset + o);
    }
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

  /** scratch[0..len] ^= keystream[at..at+len] */
  private xorScratch(keystream: Uint8Array, at: number, len: number) {
    this.k.u8.set(keystream.subarray(at, at + len), KEYSTREAM);
    this.k.exports.xor(SCRATCH, SCRATCH, KEYSTREAM, len);
  }

  /** GHASH over `data`, zero-padded to whole blocks, through the scratch area. */
  private absorb(data: Uint8Array) {
    const n = data.length;
    for (let o = 0; o < n; o += CHUNK) {
      const len = Math.min(CHUNK, n - o);
      this.k.u8.set(piece(data, o, len), SCRATCH);
      this.absorbScratch(len);
    }
  }

  /** GHASH over the first `len` bytes of the scratch area, zero-padded to whole blocks. */
  private absorbScratch(len: number) {
    const padded = (len + 15) & ~15;
    this.k.u8.fill(0, SCRATCH + len, SCRATCH + padded);
    this.k.exports.ghash(this.table, SCRATCH, padded);
  }

  /** The lengths block: bit lengths as two 64-bit big-endian numbers (packets stay far below 2^32 bits). */
  private finish(aadLength: number, textLength: number) {
    const dv = this.k.dv;
    dv.setUint32(LENGTHS, 0);
    dv.setUint32(LENGTHS + 4, aadLength * 8);
    dv.setUint32(LENGTHS + 8, 0);
    dv.setUint32(LENGTHS + 12, textLength * 8);
    this.k.exports.ghash(this.table, LENGTHS, 16);
  }
}
