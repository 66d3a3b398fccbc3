// Work-arounds for per-call costs of werift 0.24.4 (pinned) on the node's hot paths, applied
// once when the node's code is loaded. Nothing changes what werift sends or accepts.
//
// - RTCCertificate.getFingerprints() re-parses the certificate's PEM (ASN.1, x509) and hashes it
//   on every call, and werift calls it for every m-section of every offer, answer and remote
//   description it handles: in a room of n that is n certificate parses per renegotiation, the
//   biggest single cost of a join. The certificate never changes: its fingerprint is computed once.
import { RTCCertificate, SrtpAuthenticationError, SrtpSession } from 'werift';
import { SrtpAesGcm } from './srtpGcm.js';

type WithFingerprints = { getFingerprints(): unknown[] };
const proto = RTCCertificate.prototype as unknown as WithFingerprints & { __fingerprintsCached?: true };
if (typeof proto.getFingerprints === 'function' && !proto.__fingerprintsCached) {
  const original = proto.getFingerprints;
  const cache = new WeakMap<object, unknown[]>();
  proto.getFingerprints = function (this: object) {
    let fingerprints = cache.get(this);
    if (!fingerprints) cache.set(this, (fingerprints = original.call(this)));
    // a fresh array each time, as before: callers may keep it
    return [...fingerprints];
  };
  proto.__fingerprintsCached = true;
}

// - SRTP with AES-GCM (what browsers negotiate first) ran node:crypto's createCipheriv and four
//   more native calls per RTP packet, a quarter of the CPU per forwarded packet. RTP packets now
//   go through SrtpAesGcm (key schedule and GHASH table once per session, keystream made ahead
//   for the next packets); the bytes on the wire are the same (test/media/srtpGcm.test.ts).
//   SRTCP, a few packets a second, keeps werift's own code.
const GCM_PROFILE = 7; // werift's ProtectionProfileAeadAes128Gcm (SRTP_AEAD_AES_128_GCM)

interface RtpHeaderLike {
  ssrc: number;
  sequenceNumber: number;
  payloadOffset: number;
  padding: boolean;
  paddingSize: number;
  serializeSize: number;
  serialize(size: number): Buffer;
}
interface GcmCipherLike {
  srtpSessionKey: Buffer;
  srtpSessionSalt: Buffer;
  encryptRtp(header: RtpHeaderLike, payload: Buffer, rolloverCounter: number): Buffer;
  decryptRtp(cipherText: Buffer, rolloverCounter: number, header?: RtpHeaderLike): [Buffer, RtpHeaderLike];
  __fastGcm?: true;
}

// werift does not export its GCM cipher class: a throwaway session shows it
const probe = new SrtpSession({
  keys: { localMasterKey: Buffer.alloc(16), localMasterSalt: Buffer.alloc(12), remoteMasterKey: Buffer.alloc(16), remoteMasterSalt: Buffer.alloc(12) },
  profile: GCM_PROFILE,
} as ConstructorParameters<typeof SrtpSession>[0]);
const gcmProto = Object.getPrototypeOf((probe.localContext as unknown as { cipher: GcmCipherLike }).cipher) as GcmCipherLike;
if (typeof gcmProto.encryptRtp === 'function' && typeof gcmProto.decryptRtp === 'function' && !gcmProto.__fastGcm) {
  const originalDecrypt = gcmProto.decryptRtp;
  const sessions = new WeakMap<object, SrtpAesGcm>();
  const session = (cipher: GcmCipherLike) => {
    let s = sessions.get(cipher);
    if (!s) sessions.set(cipher, (s = new SrtpAesGcm(cipher.srtpSessionKey, cipher.srtpSessionSalt)));
    return s;
  };
  const rejected = () => new SrtpAuthenticationError('Failed to authenticate SRTP packet');
  gcmProto.encryptRtp = function (this: GcmCipherLike, header, payload, rolloverCounter) {
    return session(this).encrypt(header.serialize(header.serializeSize), payload, header.ssrc >>> 0, rolloverCounter >>> 0, header.sequenceNumber & 0xffff);
  };
  gcmProto.decryptRtp = function (this: GcmCipherLike, cipherText, rolloverCounter, header) {
    // werift parses the header before it decrypts; a caller that did not stays on the original
    if (!header) return originalDecrypt.call(this, cipherText, rolloverCounter);
    const dst = session(this).decrypt(cipherText, header.payloadOffset, header.ssrc >>> 0, rolloverCounter >>> 0, header.sequenceNumber & 0xffff);
    if (!dst) throw rejected();
    header.paddingSize = 0;
    if (header.padding) {
      // RFC 3550: the last byte counts the padding, itself included
      const size = dst.length > header.payloadOffset ? dst[dst.length - 1]! : 0;
      if (size === 0 || size > dst.length - header.payloadOffset) throw rejected();
      header.paddingSize = size;
    }
    return [dst, header];
  };
  gcmProto.__fastGcm = true;
}
