// Work-arounds for per-call costs of werift 0.24.4 (pinned) on the node's hot paths, applied
// once when the node's code is loaded. Nothing changes what werift sends or accepts.
//
// - RTCCertificate.getFingerprints() re-parses the certificate's PEM (ASN.1, x509) and hashes it
//   on every call, and werift calls it for every m-section of every offer, answer and remote
//   description it handles: in a room of n that is n certificate parses per renegotiation, the
//   biggest single cost of a join. The certificate never changes: its fingerprint is computed once.
import { RTCCertificate, RTP_EXTENSION_URI, RtpHeader, type RtpPacket, type RTCRtpSender, SrtpAuthenticationError, SrtpSession, uint16Add, uint32Add } from 'werift';
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

// - A forwarded packet went track.writeRtp → event → RTCRtpSender.sendRtp, which clones it, makes
//   three promises, keeps it in a 128-packet history for NACK and records it for a bandwidth
//   estimate fed by transport-cc. Audio negotiates neither here, and the history alone kept
//   every packet alive for 2.5 s: each survived the young generation and died in the old one,
//   scavenges of several milliseconds and a full collection every few seconds. forwardRtp sends
//   what sendRtp would (same header, extensions and payload, same SRTP and ICE path, the
//   sender's RTCP counters kept) and leaves senders with anything else negotiated to werift.
interface SenderInternals {
  dtlsTransport?: { state: string; sendRtp(payload: Buffer, header: RtpHeader): number };
  codec?: { payloadType: number; rtcpFeedback?: { type: string }[] };
  ssrc: number;
  mid?: string;
  headerExtensions: { id: number; uri: string }[];
  timestampOffset: number;
  seqOffset: number;
  timestamp: number;
  sequenceNumber: number;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  octetCount: number;
  headerBytesSent: number;
  packetCount: number;
  rtcpRunning: boolean;
  runRtcp(): Promise<void>;
}
type Extension = { id: number; payload: Buffer };

/** the sender's own extensions (its mid), made once per negotiated set; null: it has others, werift sends */
const ownExtensions = new WeakMap<object, { mid: string | undefined; negotiated: SenderInternals['headerExtensions']; extensions: Extension[] | null }>();
function senderExtensions(s: SenderInternals): Extension[] | null {
  let own = ownExtensions.get(s);
  if (!own || own.mid !== s.mid || own.negotiated !== s.headerExtensions) {
    let extensions: Extension[] | null = [];
    for (const e of s.headerExtensions) {
      if (e.uri === RTP_EXTENSION_URI.sdesMid) {
        if (s.mid) extensions.push({ id: e.id, payload: Buffer.from(s.mid) });
      } else if (e.uri !== RTP_EXTENSION_URI.audioLevelIndication) {
        extensions = null;
        break;
      }
    }
    if (s.codec?.rtcpFeedback?.some((f) => f.type === 'nack')) extensions = null;
    own = { mid: s.mid, negotiated: s.headerExtensions, extensions };
    ownExtensions.set(s, own);
  }
  return own.extensions;
}

/**
 * Sends `rtp` (a packet received from another participant) on `sender` as werift's sendRtp
 * would (nothing while the sender is not connected, as there); false when the sender needs
 * werift's own path (`track.writeRtp`). `ntpTimestamp` is now, for the sender's next report.
 */
export function forwardRtp(sender: RTCRtpSender, rtp: RtpPacket, ntpTimestamp: bigint): boolean {
  const s = sender as unknown as SenderInternals;
  const transport = s.dtlsTransport;
  const codec = s.codec;
  if (!transport || transport.state !== 'connected' || !codec) return true;
  const own = senderExtensions(s);
  if (!own) return false;
  const from = rtp.header;
  // werift's merge: the sender's extensions, then the packet's, whose payloads win on the same id
  let extensions: Extension[] = own;
  if (from.extensions.length > 0) {
    extensions = own.map((e) => ({ id: e.id, payload: e.payload }));
    for (const e of from.extensions) {
      const same = extensions.find((x) => x.id === e.id);
      if (same) same.payload = e.payload;
      else extensions.push(e);
    }
    if (extensions.length > 1) extensions.sort((a, b) => a.id - b.id);
  }
  const header = new RtpHeader({
    padding: from.padding,
    marker: from.marker,
    csrc: from.csrc,
    csrcLength: from.csrcLength,
    extension: from.extension,
    extensionProfile: from.extensionProfile,
    extensions,
    payloadType: codec.payloadType,
    ssrc: s.ssrc,
    timestamp: uint32Add(from.timestamp, s.timestampOffset),
    sequenceNumber: uint16Add(from.sequenceNumber, s.seqOffset),
  });
  s.timestamp = header.timestamp;
  s.sequenceNumber = header.sequenceNumber;
  s.ntpTimestamp = ntpTimestamp;
  s.rtpTimestamp = header.timestamp;
  s.octetCount += rtp.payload.length;
  s.headerBytesSent += header.serializeSize;
  s.packetCount = uint32Add(s.packetCount, 1);
  transport.sendRtp(rtp.payload, header);
  if (!s.rtcpRunning) void s.runRtcp();
  return true;
}
