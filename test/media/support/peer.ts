// A voice client for the tests and the benchmark: a werift RTCPeerConnection that answers the
// node's offers, sends synthetic Opus-sized RTP at 50 packets/s with the RFC 6464 audio level
// set, and counts what it receives per sending participant. Each payload starts with the
// sender's tag and the send time, so a receiver knows whose audio it got and how late.
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RTP_EXTENSION_URI,
  RtpHeader,
  RtpPacket,
  serializeAudioLevelIndication,
  useAudioLevelIndication,
  useSdesMid,
} from 'werift';
// the same caches as the node's (werift's per-m-section certificate parsing): the clients renegotiate as often
import '../../../media/src/werift.js';

export interface Inbound {
  packets: number;
  bytes: number;
  lastAt: number;
}

const MAGIC = 0xa7;

export function encodePayload(tag: string, sentAtMs: number, size: number): Buffer {
  const id = Buffer.from(tag, 'utf8');
  const buf = Buffer.alloc(Math.max(size, 10 + id.length));
  buf[0] = MAGIC;
  buf.writeDoubleBE(sentAtMs, 1);
  buf[9] = id.length;
  id.copy(buf, 10);
  return buf;
}

export function decodePayload(buf: Buffer): { tag: string; sentAtMs: number } | undefined {
  if (buf.length < 10 || buf[0] !== MAGIC) return undefined;
  const len = buf[9]!;
  return { sentAtMs: buf.readDoubleBE(1), tag: buf.subarray(10, 10 + len).toString('utf8') };
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes. */
export const nowMs = () => performance.timeOrigin + performance.now();

export class VoicePeer {
  readonly pc: RTCPeerConnection;
  readonly inbound = new Map<string, Inbound>();
  /** one latency sample per received packet, when recording */
  latencies: number[] | undefined;
  private readonly upstream = new MediaStreamTrack({ kind: 'audio' });
  private sending?: NodeJS.Timeout;
  private seq = Math.floor(Math.random() * 65535);
  private ts = Math.floor(Math.random() * 2 ** 31);
  private audioLevelId?: number;
  /** the -dBov level put in every packet (127 = silence) */
  level = 127;
  sentPackets = 0;
  lastOffer = '';
  /** the benchmark's hooks: every packet received (by sender tag and send time), every packet sent */
  onReceive?: (fromTag: string, sentAtMs: number) => void;
  onSent?: (sentAtMs: number) => void;

  constructor(
    readonly tag: string,
    options: { payloadBytes?: number } = {},
  ) {
    this.payloadBytes = options.payloadBytes ?? 80;
    this.pc = new RTCPeerConnection({
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })],
      },
      headerExtensions: { audio: [useSdesMid(), useAudioLevelIndication()] },
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
    });
    // werift announces a track again on every renegotiation that keeps it: count each once
    const seen = new WeakSet<MediaStreamTrack>();
    this.pc.onTrack.subscribe((track) => {
      if (seen.has(track)) return;
      seen.add(track);
      track.onReceiveRtp.subscribe((rtp) => {
        const decoded = decodePayload(rtp.payload);
        const from = decoded?.tag ?? '?';
        let entry = this.inbound.get(from);
        if (!entry) this.inbound.set(from, (entry = { packets: 0, bytes: 0, lastAt: 0 }));
        entry.packets++;
        entry.bytes += rtp.payload.length;
        entry.lastAt = Date.now();
        if (this.latencies && decoded) this.latencies.push(nowMs() - decoded.sentAtMs);
        if (decoded) this.onReceive?.(decoded.tag, decoded.sentAtMs);
      });
    });
  }

  private readonly payloadBytes: number;

  packetsFrom(tag: string): number {
    return this.inbound.get(tag)?.packets ?? 0;
  }

  totalInbound(): number {
    let n = 0;
    for (const e of this.inbound.values()) n += e.packets;
    return n;
  }

  /** Answers an offer of the node (the first one and every renegotiation). */
  async answer(offer: string): Promise<string> {
    this.lastOffer = offer;
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    // the node's first m-section receives this participant's upstream
    const up = this.pc.getTransceivers()[0];
    if (up && up.sender.track !== this.upstream) {
      up.setDirection('sendonly');
      await up.sender.replaceTrack(this.upstream);
    }
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const { unSubscribe } = this.pc.iceGatheringStateChange.subscribe((s) => {
          if (s === 'complete') {
            unSubscribe();
            resolve();
          }
        });
      });
    }
    const map = this.pc.extIdUriMap;
    this.audioLevelId = Number(Object.keys(map).find((id) => map[Number(id)] === RTP_EXTENSION_URI.audioLevelIndication));
    return this.pc.localDescription!.sdp;
  }

  /** One 20 ms Opus-sized packet, now. */
  sendOne(): void {
    const sender = this.pc.getTransceivers()[0]?.sender;
    if (!sender) return;
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 960) >>> 0;
    const extensions = this.audioLevelId ? [{ id: this.audioLevelId, payload: Buffer.from(serializeAudioLevelIndication(this.level)) }] : [];
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: this.seq, timestamp: this.ts, marker: false, extension: extensions.length > 0, extensions });
    const sentAt = nowMs();
    void sender.sendRtp(new RtpPacket(header, encodePayload(this.tag, sentAt, this.payloadBytes)));
    this.sentPackets++;
    this.onSent?.(sentAt);
  }

  /** 50 packets/s until stop(). */
  start(intervalMs = 20): void {
    if (this.sending) return;
    this.sending = setInterval(() => this.sendOne(), intervalMs);
  }

  stop(): void {
    clearInterval(this.sending);
    this.sending = undefined;
  }

  get connectionState() {
    return this.pc.connectionState;
  }

  /** The connection failed, or its DTLS handshake did (werift may then still say "connecting"). */
  get failed(): boolean {
    const transports = (this.pc as unknown as { dtlsTransports?: { state: string }[] }).dtlsTransports ?? [];
    return this.pc.connectionState === 'failed' || transports.some((t) => t.state === 'failed');
  }

  async close(): Promise<void> {
    this.stop();
    await this.pc.close().catch(() => {});
  }
}
