// Work-arounds for per-call costs of werift 0.24.4 (pinned) on the node's hot paths, applied
// once when the node's code is loaded. Each is a cache of a pure result; nothing changes what
// werift sends or accepts.
//
// - RTCCertificate.getFingerprints() re-parses the certificate's PEM (ASN.1, x509) and hashes it
//   on every call, and werift calls it for every m-section of every offer, answer and remote
//   description it handles: in a room of n that is n certificate parses per renegotiation, the
//   biggest single cost of a join. The certificate never changes: its fingerprint is computed once.
import { RTCCertificate } from 'werift';

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
