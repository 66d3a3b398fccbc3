// The forwarding core: rooms of participants, one werift RTCPeerConnection per participant,
// each participant's Opus upstream copied, undecoded, onto one sendonly track on every other
// participant's connection. Usable in-process (the embedded API) or behind control.ts.
//
// The node always makes the offers: a participant's connection changes whenever someone joins
// or leaves, and with one side owning renegotiation there is no glare to resolve. At most one
// offer per participant is outstanding; changes made meanwhile are folded into the next one.
import { EventEmitter } from 'node:events';
import {
  MediaStream,
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RTP_EXTENSION_URI,
  type RTCRtpTransceiver,
  type RtpPacket,
  ntpTime,
  useAudioLevelIndication,
  useSdesMid,
} from 'werift';
import { DEFAULT_SPEAKING, SpeakingDetector, type SpeakingOptions } from './speaking.js';
import { forwardRtp } from './werift.js';

export type ParticipantState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
export type LeaveReason = 'left' | 'ice-failed' | 'ice-disconnected' | 'connect-timeout' | 'transport-closed' | 'control-lost' | 'node-stopping';

export class MediaError extends Error {
  constructor(
    readonly code: 'BAD_REQUEST' | 'NOT_FOUND' | 'CONFLICT' | 'LIMIT',
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export interface MediaNodeOptions {
  /** public address written into the ICE candidates in place of the host addresses (behind 1:1 NAT) */
  announcedIp?: string;
  /** UDP ports the ICE sockets bind to */
  rtcPortRange?: [number, number];
  /** host addresses werift leaves out by default (loopback) but which should be offered */
  additionalHostAddresses?: string[];
  /** how long a participant may take to connect, or stay disconnected, before it is dropped */
  iceTimeoutMs?: number;
  speaking?: Partial<SpeakingOptions>;
  maxParticipantsPerRoom?: number;
  /** how long a renegotiation waits for more changes (joins, leaves) to go into the same offer */
  offerBatchMs?: number;
}

export interface Counters {
  packets: number;
  bytes: number;
}

export interface ParticipantStats {
  roomId: string;
  participantId: string;
  userId: string;
  state: ParticipantState;
  muted: boolean;
  deafened: boolean;
  speaking: boolean;
  /** this participant's upstream, as it arrived */
  received: Counters;
  /** copies of this participant's audio sent to the others */
  forwarded: Counters;
  /** packets of the others sent to this participant */
  sent: Counters;
  /** an offer to this participant is waiting for its answer */
  negotiating: boolean;
  /** others whose track is on this participant's connection but not yet negotiated (nothing of theirs can be sent yet) */
  pendingForwards: string[];
}

export interface MediaNodeEvents {
  offer: [{ roomId: string; participantId: string; sdp: string }];
  speaking: [{ roomId: string; participantId: string; speaking: boolean }];
  connection: [{ roomId: string; participantId: string; state: 'connected' | 'failed' | 'closed' }];
  left: [{ roomId: string; participantId: string; reason: LeaveReason }];
}

const OPUS = () =>
  new RTCRtpCodecParameters({
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    payloadType: 111,
    parameters: 'minptime=10;useinbandfec=1',
  });
const AUDIO_LEVEL = RTP_EXTENSION_URI.audioLevelIndication;
/** the longest the offer queue waits for one offer before making the next */
const OFFER_PACE_MAX_MS = 1_000;

/** One forwarded stream: the source's audio, as a sendonly track on the receiver's connection. */
interface Forward {
  sourceId: string;
  track: MediaStreamTrack;
  transceiver: RTCRtpTransceiver;
}

class Participant {
  state: ParticipantState = 'new';
  muted = false;
  deafened = false;
  leaving = false;
  /** an offer is out and its answer not yet applied */
  offerOutstanding = false;
  /** something changed while an offer was out: offer again after the answer */
  renegotiate = false;
  /** an offer is due: the changes of the next offerBatchMs go into it too */
  offerTimer?: NodeJS.Timeout;
  readonly forwards = new Map<string, Forward>();
  readonly received: Counters = { packets: 0, bytes: 0 };
  readonly forwarded: Counters = { packets: 0, bytes: 0 };
  readonly sent: Counters = { packets: 0, bytes: 0 };
  iceTimer?: NodeJS.Timeout;
  upstream!: RTCRtpTransceiver;

  constructor(
    readonly id: string,
    readonly roomId: string,
    readonly userId: string,
    readonly pc: RTCPeerConnection,
    readonly speaking: SpeakingDetector,
  ) {}
}

class Room {
  readonly participants = new Map<string, Participant>();
  constructor(readonly id: string) {}
}

const nonEmpty = (name: string, v: unknown): string => {
  if (typeof v !== 'string' || !v || v.length > 200) throw new MediaError('BAD_REQUEST', `${name} must be a non-empty string of at most 200 characters`);
  return v;
};

/** Replaces the address of every host candidate (and the c= lines) with the announced one. */
export function announceAddress(sdp: string, ip: string): string {
  const family = ip.includes(':') ? 'IP6' : 'IP4';
  const seen = new Set<string>();
  return sdp
    .split('\r\n')
    .filter((line) => {
      const m = /^a=candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ host/.exec(line);
      if (!m) return true;
      // several interfaces behind one public address would become duplicate candidates
      const key = `${m[2]} ${m[3]} ${m[6]}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((line) => {
      if (line.startsWith('c=IN ')) return `c=IN ${family} ${ip}`;
      return line.replace(/^(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( \d+ typ host)/, `$1${ip}$3`);
    })
    .join('\r\n');
}

export class MediaNode extends EventEmitter<MediaNodeEvents> {
  private readonly rooms = new Map<string, Room>();
  private readonly participants = new Map<string, Participant>();
  private readonly speakingTimer: NodeJS.Timeout;
  private readonly speakingOptions: SpeakingOptions;
  private closed = false;
  /** connections whose offer is due, made one at a time (drainOffers) */
  private readonly offerQueue = new Set<Participant>();
  private draining = false;

  constructor(private readonly options: MediaNodeOptions = {}) {
    super();
    this.speakingOptions = { ...DEFAULT_SPEAKING, ...options.speaking };
    // packets stop arriving when a browser mutes or goes silent with DTX: end speaking on time anyway
    this.speakingTimer = setInterval(() => {
      const now = Date.now();
      for (const p of this.participants.values()) if (p.speaking.tick(now) === false) this.emitSpeaking(p, false);
    }, 100);
    this.speakingTimer.unref();
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  get participantCount(): number {
    return this.participants.size;
  }

  has(participantId: string): boolean {
    return this.participants.has(participantId);
  }

  roomOf(participantId: string): string | undefined {
    return this.participants.get(participantId)?.roomId;
  }

  participantIds(roomId?: string): string[] {
    if (roomId === undefined) return [...this.participants.keys()];
    return [...(this.rooms.get(roomId)?.participants.keys() ?? [])];
  }

  /** Creates the participant's connection and returns the node's offer (ICE gathered, non-trickle). */
  async join(args: { roomId: unknown; participantId: unknown; userId: unknown }): Promise<{ offer: string }> {
    if (this.closed) throw new MediaError('CONFLICT', 'the node is stopping');
    const roomId = nonEmpty('roomId', args.roomId);
    const participantId = nonEmpty('participantId', args.participantId);
    const userId = nonEmpty('userId', args.userId);
    if (this.participants.has(participantId)) throw new MediaError('CONFLICT', `participant ${participantId} has already joined`);
    let room = this.rooms.get(roomId);
    if (room && room.participants.size >= (this.options.maxParticipantsPerRoom ?? 100))
      throw new MediaError('LIMIT', `room ${roomId} is full (${room.participants.size} participants)`);
    if (!room) {
      room = new Room(roomId);
      this.rooms.set(roomId, room);
    }

    const pc = new RTCPeerConnection({
      codecs: { audio: [OPUS()] },
      headerExtensions: { audio: [useSdesMid(), useAudioLevelIndication()] },
      bundlePolicy: 'max-bundle',
      iceUseIpv6: false,
      icePortRange: this.options.rtcPortRange,
      iceAdditionalHostAddresses: this.options.additionalHostAddresses,
    });
    const p = new Participant(participantId, roomId, userId, pc, new SpeakingDetector(this.speakingOptions));
    room.participants.set(participantId, p);
    this.participants.set(participantId, p);

    p.upstream = pc.addTransceiver('audio', { direction: 'recvonly' });
    const seen = new WeakSet<MediaStreamTrack>();
    p.upstream.onTrack.subscribe((track) => {
      // a renegotiation that keeps the track may announce it again: forward it once
      if (seen.has(track)) return;
      seen.add(track);
      track.onReceiveRtp.subscribe((rtp, extensions) => this.forward(p, rtp, extensions?.[AUDIO_LEVEL] as { level: number } | undefined));
    });
    pc.connectionStateChange.subscribe((state) => this.onConnectionState(p, state));
    p.iceTimer = setTimeout(() => void this.leave(participantId, 'connect-timeout').catch(() => {}), this.options.iceTimeoutMs ?? 15_000);
    p.iceTimer.unref();

    for (const other of room.participants.values()) {
      if (other === p) continue;
      this.addForward(other, p);
      this.addForward(p, other);
      this.scheduleOffer(other);
    }
    p.offerOutstanding = true;
    try {
      return { offer: await this.makeOffer(p) };
    } catch (err) {
      await this.leave(participantId, 'transport-closed').catch(() => {});
      throw err;
    }
  }

  async answer(args: { participantId: unknown; sdp: unknown }): Promise<void> {
    const p = this.get(args.participantId);
    if (typeof args.sdp !== 'string' || !args.sdp.startsWith('v=0')) throw new MediaError('BAD_REQUEST', 'sdp must be an SDP answer (starting with v=0)');
    if (!p.offerOutstanding || p.pc.signalingState !== 'have-local-offer') throw new MediaError('CONFLICT', 'no offer is waiting for an answer');
    try {
      await p.pc.setRemoteDescription({ type: 'answer', sdp: args.sdp });
    } catch (err) {
      throw new MediaError('BAD_REQUEST', `the answer was not accepted: ${(err as Error).message}`);
    }
    p.offerOutstanding = false;
    if (p.state === 'new') p.state = 'connecting';
    if (p.renegotiate) {
      p.renegotiate = false;
      this.scheduleOffer(p);
    }
  }

  async candidate(args: { participantId: unknown; candidate: unknown }): Promise<void> {
    const p = this.get(args.participantId);
    const c = args.candidate as { candidate?: unknown; sdpMid?: unknown; sdpMLineIndex?: unknown } | null | undefined;
    // null / empty: end of candidates, which werift needs no signal for
    if (c === null || c === undefined || c.candidate === '') return;
    if (typeof c !== 'object' || typeof c.candidate !== 'string') throw new MediaError('BAD_REQUEST', 'candidate must be an RTCIceCandidateInit');
    try {
      await p.pc.addIceCandidate({
        candidate: c.candidate,
        sdpMid: typeof c.sdpMid === 'string' ? c.sdpMid : undefined,
        sdpMLineIndex: typeof c.sdpMLineIndex === 'number' ? c.sdpMLineIndex : undefined,
      });
    } catch (err) {
      throw new MediaError('BAD_REQUEST', `the candidate was not accepted: ${(err as Error).message}`);
    }
  }

  /** Mute stops forwarding the participant's audio; deafen stops forwarding anything to them. */
  setForwarding(args: { participantId: unknown; muted?: unknown; deafened?: unknown }): { muted: boolean; deafened: boolean } {
    const p = this.get(args.participantId);
    if (args.muted !== undefined && typeof args.muted !== 'boolean') throw new MediaError('BAD_REQUEST', 'muted must be a boolean');
    if (args.deafened !== undefined && typeof args.deafened !== 'boolean') throw new MediaError('BAD_REQUEST', 'deafened must be a boolean');
    if (typeof args.muted === 'boolean') p.muted = args.muted;
    if (typeof args.deafened === 'boolean') p.deafened = args.deafened;
    if (p.muted && p.speaking.reset() === false) this.emitSpeaking(p, false);
    return { muted: p.muted, deafened: p.deafened };
  }

  stats(roomId?: unknown): ParticipantStats[] {
    if (roomId !== undefined && typeof roomId !== 'string') throw new MediaError('BAD_REQUEST', 'roomId must be a string');
    const list = roomId === undefined ? [...this.participants.values()] : [...(this.rooms.get(roomId)?.participants.values() ?? [])];
    return list.map((p) => ({
      roomId: p.roomId,
      participantId: p.id,
      userId: p.userId,
      state: p.state,
      muted: p.muted,
      deafened: p.deafened,
      speaking: p.speaking.speaking,
      received: { ...p.received },
      forwarded: { ...p.forwarded },
      sent: { ...p.sent },
      negotiating: p.offerOutstanding,
      pendingForwards: [...p.forwards.values()].filter((f) => !f.transceiver.sender.codec).map((f) => f.sourceId),
    }));
  }

  /** Tears the participant down and takes their track off everyone else's connection. */
  async leave(participantId: unknown, reason: LeaveReason = 'left'): Promise<void> {
    const p = this.get(participantId);
    if (p.leaving) return;
    p.leaving = true;
    clearTimeout(p.iceTimer);
    clearTimeout(p.offerTimer);
    this.offerQueue.delete(p);
    const room = this.rooms.get(p.roomId)!;
    room.participants.delete(p.id);
    this.participants.delete(p.id);
    if (!room.participants.size) this.rooms.delete(room.id);
    if (p.speaking.reset() === false) this.emitSpeaking(p, false);
    for (const other of room.participants.values()) {
      const f = other.forwards.get(p.id);
      if (!f) continue;
      other.forwards.delete(p.id);
      f.track.stop();
      if (!other.leaving) {
        try {
          other.pc.removeTrack(f.transceiver.sender);
        } catch {
          /* their connection is closing too */
        }
        this.scheduleOffer(other);
      }
    }
    for (const f of p.forwards.values()) f.track.stop();
    p.forwards.clear();
    p.state = 'closed';
    await p.pc.close().catch(() => {});
    this.emit('connection', { roomId: p.roomId, participantId: p.id, state: 'closed' });
    this.emit('left', { roomId: p.roomId, participantId: p.id, reason });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.speakingTimer);
    await Promise.all([...this.participants.keys()].map((id) => this.leave(id, 'node-stopping').catch(() => {})));
  }

  private get(participantId: unknown): Participant {
    const id = nonEmpty('participantId', participantId);
    const p = this.participants.get(id);
    if (!p) throw new MediaError('NOT_FOUND', `no participant ${id} on this node`);
    return p;
  }

  /** A sendonly track on `receiver`'s connection carrying `source`'s audio; its stream id names the source. */
  private addForward(receiver: Participant, source: Participant) {
    const track = new MediaStreamTrack({ kind: 'audio' });
    const transceiver = receiver.pc.addTransceiver(track, { direction: 'sendonly', streams: [new MediaStream({ id: source.id })] });
    receiver.forwards.set(source.id, { sourceId: source.id, track, transceiver });
  }

  /**
   * A renegotiation of p's connection is needed. Changes are batched: while an offer is out
   * they wait for its answer, and an offer waits offerBatchMs for what else changes (several
   * joining at once), so a burst of n joins costs each connection about one offer, not n,
   * each of which werift builds and parses whole (O(m-sections)).
   */
  private scheduleOffer(p: Participant) {
    if (p.leaving) return;
    if (p.offerOutstanding) {
      p.renegotiate = true;
      return;
    }
    if (p.offerTimer) return;
    p.offerTimer = setTimeout(() => {
      p.offerTimer = undefined;
      this.offerQueue.add(p);
      void this.drainOffers();
    }, this.options.offerBatchMs ?? 20);
    p.offerTimer.unref();
  }

  /**
   * Makes the queued offers one at a time, yielding to the event loop between them. A join in a
   * room of 50 renegotiates 49 connections, each offer some 40 KB of SDP that werift builds
   * and parses in one go: run back to back (all promise continuations) they held the loop for
   * seconds, long enough for DTLS and ICE timers of connections being set up to fire and
   * retransmit, which werift's DTLS does not always survive. STUN and DTLS get their turn now.
   */
  private async drainOffers() {
    if (this.draining) return;
    this.draining = true;
    try {
      for (const p of this.offerQueue) {
        this.offerQueue.delete(p);
        if (p.leaving || p.offerOutstanding) continue;
        p.offerOutstanding = true;
        const made = this.makeOffer(p).then(
          (sdp) => {
            if (!p.leaving) this.emit('offer', { roomId: p.roomId, participantId: p.id, sdp });
          },
          () => {
            p.offerOutstanding = false;
            if (!p.leaving) void this.leave(p.id, 'transport-closed').catch(() => {});
          },
        );
        // the next once this one is made, or after OFFER_PACE_MAX_MS at most: werift never
        // settles a description on a connection closed under it, and the queue must not wait on it
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([made, new Promise<void>((resolve) => (timer = setTimeout(resolve, OFFER_PACE_MAX_MS)))]);
        clearTimeout(timer);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.draining = false;
    }
  }

  private async makeOffer(p: Participant): Promise<string> {
    const offer = await p.pc.createOffer();
    await p.pc.setLocalDescription(offer);
    if (p.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const { unSubscribe } = p.pc.iceGatheringStateChange.subscribe((state) => {
          if (state === 'complete') {
            unSubscribe();
            resolve();
          }
        });
      });
    }
    const sdp = p.pc.localDescription!.sdp;
    return this.options.announcedIp ? announceAddress(sdp, this.options.announcedIp) : sdp;
  }

  private forward(p: Participant, rtp: RtpPacket, level: { level: number } | undefined) {
    p.received.packets++;
    p.received.bytes += rtp.payload.length;
    if (p.muted) return;
    if (level) {
      const changed = p.speaking.level(level.level, Date.now());
      if (changed !== undefined) this.emitSpeaking(p, changed);
    }
    const room = this.rooms.get(p.roomId);
    if (!room) return;
    const now = ntpTime();
    for (const other of room.participants.values()) {
      if (other === p || other.deafened || other.state !== 'connected') continue;
      const f = other.forwards.get(p.id);
      if (!f) continue;
      // werift's sender rewrites ssrc, sequence number and header extensions in place: one copy each
      if (!forwardRtp(f.transceiver.sender, rtp, now)) f.track.writeRtp(rtp.clone());
      p.forwarded.packets++;
      p.forwarded.bytes += rtp.payload.length;
      other.sent.packets++;
      other.sent.bytes += rtp.payload.length;
    }
  }

  private onConnectionState(p: Participant, state: RTCPeerConnection['connectionState']) {
    if (p.leaving) return;
    const timeout = this.options.iceTimeoutMs ?? 15_000;
    if (state === 'connected') {
      clearTimeout(p.iceTimer);
      const was = p.state;
      p.state = 'connected';
      if (was !== 'connected' && was !== 'disconnected') this.emit('connection', { roomId: p.roomId, participantId: p.id, state: 'connected' });
    } else if (state === 'connecting') {
      if (p.state === 'new') p.state = 'connecting';
    } else if (state === 'disconnected') {
      p.state = 'disconnected';
      clearTimeout(p.iceTimer);
      p.iceTimer = setTimeout(() => void this.leave(p.id, 'ice-disconnected').catch(() => {}), timeout);
      p.iceTimer.unref();
    } else if (state === 'failed') {
      p.state = 'failed';
      this.emit('connection', { roomId: p.roomId, participantId: p.id, state: 'failed' });
      void this.leave(p.id, 'ice-failed').catch(() => {});
    } else if (state === 'closed') {
      void this.leave(p.id, 'transport-closed').catch(() => {});
    }
  }

  private emitSpeaking(p: Participant, speaking: boolean) {
    this.emit('speaking', { roomId: p.roomId, participantId: p.id, speaking });
  }
}
