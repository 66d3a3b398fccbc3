// SRTP with AEAD_AES_128_GCM (RFC 7714) for RTP packets, keystream made ahead per stream.
//
// A packet's IV is the session salt xor (ssrc, rollover counter, sequence number), so the IVs
// of a stream's next packets are known before they arrive or are sent: the keystream of
// PACKETS_AHEAD of them is made in one AES call, which costs about what one packet's did.
// A packet outside the batch (late, reordered, larger than the batch's slots) gets its own.
import { AesGcm128, GCM_TAG_LENGTH } from './aesGcm.js';

const PACKETS_AHEAD = 16;

interface Batch {
  /** packet index (rollover counter × 65536 + sequence number) of the first slot */
  first: number;
  count: number;
  /** 16-byte blocks per slot: E(K, J0), then the payload's */
  blocks: number;
  keystream: Buffer;
}

export class SrtpAesGcm {
  private readonly aes: AesGcm128;
  private readonly batches = new Map<number, Batch>();

  constructor(
    sessionKey: Uint8Array,
    private readonly sessionSalt: Uint8Array,
  ) {
    if (sessionSalt.length < 12) throw new RangeError('SRTP GCM needs a 12-byte session salt');
    this.aes = new AesGcm128(sessionKey);
  }

  /** header (the AAD) + encrypted payload + tag, as one new buffer. */
  encrypt(header: Uint8Array, payload: Uint8Array, ssrc: number, rolloverCounter: number, sequenceNumber: number): Buffer {
    const out = Buffer.allocUnsafe(header.length + payload.length + GCM_TAG_LENGTH);
    out.set(header, 0);
    const [keystream, at] = this.keystreamFor(ssrc, rolloverCounter * 65536 + sequenceNumber, payload.length);
    this.aes.sealWith(keystream, at, header, payload, out, header.length);
    return out;
  }

  /** The packet with its payload decrypted and the tag cut off; undefined when it does not authenticate. */
  decrypt(packet: Uint8Array, payloadOffset: number, ssrc: number, rolloverCounter: number, sequenceNumber: number): Buffer | undefined {
    const tagAt = packet.length - GCM_TAG_LENGTH;
    if (tagAt < payloadOffset) return undefined;
    const out = Buffer.allocUnsafe(tagAt);
    const aad = packet.subarray(0, payloadOffset);
    out.set(aad, 0);
    const [keystream, at] = this.keystreamFor(ssrc, rolloverCounter * 65536 + sequenceNumber, tagAt - payloadOffset);
    return this.aes.openWith(keystream, at, aad, packet.subarray(payloadOffset, tagAt), packet.subarray(tagAt), out, payloadOffset) ? out : undefined;
  }

  private keystreamFor(ssrc: number, index: number, length: number): [Buffer, number] {
    const blocks = 1 + Math.ceil(length / 16);
    const batch = this.batches.get(ssrc);
    if (batch) {
      const slot = index - batch.first;
      if (slot >= 0 && slot < batch.count && blocks <= batch.blocks) return [batch.keystream, slot * batch.blocks * 16];
      // behind the batch (late or repeated): this packet alone, the batch stays
      if (slot < 0) return [this.make(ssrc, index, 1, blocks).keystream, 0];
    }
    const next = this.make(ssrc, index, PACKETS_AHEAD, Math.max(blocks, batch?.blocks ?? 0));
    this.batches.set(ssrc, next);
    return [next.keystream, 0];
  }

  private make(ssrc: number, first: number, count: number, blocks: number): Batch {
    const salt = this.sessionSalt;
    const counters = Buffer.allocUnsafe(count * blocks * 16);
    for (let p = 0; p < count; p++) {
      const index = first + p;
      const roc = Math.floor(index / 65536) >>> 0;
      const seq = index & 0xffff;
      const iv0 = salt[0]!;
      const iv1 = salt[1]!;
      const iv2 = salt[2]! ^ (ssrc >>> 24);
      const iv3 = salt[3]! ^ ((ssrc >>> 16) & 0xff);
      const iv4 = salt[4]! ^ ((ssrc >>> 8) & 0xff);
      const iv5 = salt[5]! ^ (ssrc & 0xff);
      const iv6 = salt[6]! ^ (roc >>> 24);
      const iv7 = salt[7]! ^ ((roc >>> 16) & 0xff);
      const iv8 = salt[8]! ^ ((roc >>> 8) & 0xff);
      const iv9 = salt[9]! ^ (roc & 0xff);
      const iv10 = salt[10]! ^ (seq >>> 8);
      const iv11 = salt[11]! ^ (seq & 0xff);
      for (let b = 0; b < blocks; b++) {
        const o = (p * blocks + b) * 16;
        counters[o] = iv0;
        counters[o + 1] = iv1;
        counters[o + 2] = iv2;
        counters[o + 3] = iv3;
        counters[o + 4] = iv4;
        counters[o + 5] = iv5;
        counters[o + 6] = iv6;
        counters[o + 7] = iv7;
        counters[o + 8] = iv8;
        counters[o + 9] = iv9;
        counters[o + 10] = iv10;
        counters[o + 11] = iv11;
        // the 32-bit block counter, big-endian: J0 = 1, the payload from 2 (blocks stay < 2^24)
        counters[o + 12] = 0;
        counters[o + 13] = (b + 1) >>> 16;
        counters[o + 14] = ((b + 1) >>> 8) & 0xff;
        counters[o + 15] = (b + 1) & 0xff;
      }
    }
    return { first, count, blocks, keystream: this.aes.encryptBlocks(counters) };
  }
}
