// A voice client process (forked by scenario "voice", one of several): it holds werift peers
// joined to a media node through its own control connection (as an API instance would relay
// for its browsers), sends Opus-sized RTP at 50 packets/s from the speakers, and counts what
// arrives, with the latency from the send time in each payload. Counting is by send time, so
// the orchestrator can give every worker the same window.
import { createHash } from 'node:crypto';
import { Histogram, type HistogramData } from '../lib/stats.js';
import { errorText, pool } from '../lib/util.js';
import { ControlClient, VoiceRoom } from '../../test/media/support/control.js';
import type { VoicePeer } from '../../test/media/support/peer.js';
import type { ParticipantStats } from '../../media/src/node.js';

export interface VoiceJoinArgs {
  controlUrl: string;
  secret: string;
  /** participants of this worker: room, id, whether it speaks */
  participants: { roomId: string; participantId: string; speaks: boolean }[];
  payloadBytes: number;
  concurrency: number;
}

export interface VoiceWindowResult {
  /** packets the speakers of this worker sent in the window, by participant id */
  sent: Record<string, number>;
  /** packets received in the window (by send time), by sending participant id */
  received: Record<string, number>;
  latency: HistogramData;
  connected: number;
  retried: number;
  /** packets received in the window by each listener of this worker from each sender, `listener<-sender` */
  pairs: Record<string, number>;
}

export interface SilentStreamInfo {
  listener: string;
  sender: string;
  /** the listener's client side */
  client: { connection?: string; signaling?: string; tracks: number } | null;
  /** the node's view of the listener, from its stats */
  node: Pick<ParticipantStats, 'state' | 'negotiating' | 'pendingForwards' | 'sent'> | null;
}

let control: ControlClient | undefined;
const rooms = new Map<string, VoiceRoom>();
let window: { from: number; to: number } | undefined;
let sent: Record<string, number> = {};
let pairs: Record<string, number> = {};
let latency = new Histogram();
let speakers: VoicePeer[] = [];
/** joins tried again after the peer's connection failed */
let retried = 0;

const inWindow = (t: number) => window !== undefined && t >= window.from && t < window.to;

const handlers: Record<string, (args: never) => Promise<unknown>> = {
  async join(args: VoiceJoinArgs) {
    control ??= await ControlClient.connect(args.controlUrl, args.secret);
    await pool(args.participants.length, args.concurrency, async (i) => {
      const { roomId, participantId, speaks } = args.participants[i]!;
      let room = rooms.get(roomId);
      if (!room) rooms.set(roomId, (room = new VoiceRoom(control!, roomId)));
      // speakers start together once everyone is in (startSpeaking): joining is not measured
      let peer: VoicePeer | undefined;
      for (let attempt = 1; !peer; attempt++) {
        try {
          peer = await room.join(participantId, { send: false, level: speaks ? 30 : 127, payloadBytes: args.payloadBytes, connectTimeoutMs: 60_000 });
        } catch (err) {
          // werift's DTLS client sometimes fails a handshake its server side completed (seen under
          // load): a browser would join again, and so does the benchmark, counted
          if (attempt < 5 && room.peers.get(participantId)?.failed) {
            retried++;
            await room.drop(participantId);
            continue;
          }
          // what each side saw: the peer's connection states, and the node's for the participant
          const p = room.peers.get(participantId);
          const stats = await control!.request('stats', { roomId }).catch(() => null);
          const node = (stats?.participants as { participantId: string }[] | undefined)?.find((s) => s.participantId === participantId);
          const t = (p?.pc as unknown as { dtlsTransports?: { state: string; role: string; remoteParameters?: { fingerprints: { value: string }[] }; dtls?: { remoteCertificate?: Buffer } }[] })?.dtlsTransports?.[0];
          const remote = t?.dtls?.remoteCertificate;
          const dtls = `dtls ${t?.state} as ${t?.role}, expected ${t?.remoteParameters?.fingerprints.map((f) => f.value.slice(0, 11)).join('|')}, got ${remote ? createHash('sha256').update(remote).digest('hex').slice(0, 8) : 'none'}`;
          throw new Error(
            `${errorText(err)} (peer: connection ${p?.pc.connectionState}, ice ${p?.pc.iceConnectionState}, signaling ${p?.pc.signalingState}, ${dtls}; node: ${JSON.stringify(node ?? null)})`,
          );
        }
      }
      if (speaks) speakers.push(peer);
      peer.onSent = (t) => {
        if (inWindow(t)) sent[participantId] = (sent[participantId] ?? 0) + 1;
      };
      peer.onReceive = (from, t) => {
        if (!inWindow(t)) return;
        const pair = `${participantId}<-${from}`;
        pairs[pair] = (pairs[pair] ?? 0) + 1;
        latency.record(performance.timeOrigin + performance.now() - t);
      };
    });
    return true;
  },
  async startSpeaking() {
    for (const p of speakers) p.start();
    return speakers.length;
  },
  /** Counts packets sent in [from, to) (wall-clock ms) and, once `drainMs` after `to`, reports. */
  async measure(args: { from: number; to: number; drainMs: number }) {
    sent = {};
    pairs = {};
    latency = new Histogram();
    window = { from: args.from, to: args.to };
    const wait = args.to + args.drainMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    let connected = 0;
    for (const room of rooms.values()) for (const p of room.peers.values()) if (p.connectionState === 'connected') connected++;
    const received: Record<string, number> = {};
    for (const [pair, n] of Object.entries(pairs)) {
      const from = pair.slice(pair.indexOf('<-') + 2);
      received[from] = (received[from] ?? 0) + n;
    }
    const result: VoiceWindowResult = { sent, received, latency: latency.toJSON(), connected, retried, pairs };
    window = undefined;
    return result;
  },
  /** What the listener's client and the node say of streams that carried nothing (the listeners of this worker). */
  async silentStreams(args: { streams: { listener: string; sender: string; roomId: string }[] }) {
    const statsByRoom = new Map<string, ParticipantStats[]>();
    const infos: SilentStreamInfo[] = [];
    for (const { listener, sender, roomId } of args.streams) {
      if (!statsByRoom.has(roomId)) {
        const stats = await control?.request('stats', { roomId }).catch(() => null);
        statsByRoom.set(roomId, (stats?.participants as ParticipantStats[] | undefined) ?? []);
      }
      const node = statsByRoom.get(roomId)!.find((s) => s.participantId === listener);
      const peer = rooms.get(roomId)?.peers.get(listener);
      infos.push({
        listener,
        sender,
        client: peer ? { connection: peer.pc.connectionState, signaling: peer.pc.signalingState, tracks: peer.inbound.size } : null,
        node: node ? { state: node.state, negotiating: node.negotiating, pendingForwards: node.pendingForwards, sent: node.sent } : null,
      });
    }
    return infos;
  },
  async leaveAll() {
    for (const room of rooms.values()) {
      for (const id of room.peers.keys()) await control?.request('leave', { participantId: id });
      await room.close();
    }
    rooms.clear();
    speakers = [];
    retried = 0;
    return true;
  },
};

process.on('message', (msg: { id: number; cmd: string; args: unknown }) => {
  const handler = handlers[msg.cmd];
  if (!handler) {
    process.send?.({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` });
    return;
  }
  handler(msg.args as never).then(
    (result) => process.send?.({ id: msg.id, ok: true, result }),
    (err) => process.send?.({ id: msg.id, ok: false, error: errorText(err) }),
  );
});
// the orchestrator is gone: so are we
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
