// The API's side of the control protocol, as the tests (and the benchmark) drive it.
import WebSocket from 'ws';
import { VoicePeer } from './peer.js';

export type Reply = { id: number; ok: boolean; error?: { code: string; message: string } } & Record<string, unknown>;
export type ControlEvent = { event: string; roomId: string; participantId: string } & Record<string, unknown>;

export class ControlClient {
  readonly events: ControlEvent[] = [];
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly listeners = new Set<(e: ControlEvent) => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Reply & ControlEvent;
      if (typeof msg.event === 'string') {
        this.events.push(msg);
        for (const l of this.listeners) l(msg);
        return;
      }
      this.waiting.get(msg.id)?.(msg);
      this.waiting.delete(msg.id);
    });
  }

  static connect(url: string, secret: string | undefined): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: secret === undefined ? {} : { authorization: `Bearer ${secret}` } });
      ws.once('open', () => resolve(new ControlClient(ws)));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }

  onEvent(fn: (e: ControlEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Sends raw text; resolves with the next reply carrying `id` (null for unparseable requests). */
  raw(text: string, id: number | null): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting.set(id as number, resolve);
      this.ws.send(text);
    });
  }

  request(op: string, args: Record<string, unknown> = {}): Promise<Reply> {
    const id = this.next++;
    return this.raw(JSON.stringify({ id, op, ...args }), id);
  }

  async call<T = Record<string, unknown>>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const r = await this.request(op, args);
    if (!r.ok) throw new Error(`${op}: ${r.error?.code} ${r.error?.message}`);
    return r as unknown as T;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** Polls until `check` holds; fails with `what` after timeoutMs. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves once `count()` has not changed for quietMs; fails if that takes longer than withinMs + quietMs. */
export async function stopsRising(what: string, count: () => number, withinMs = 1000, quietMs = 300): Promise<void> {
  const start = Date.now();
  let last = count();
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      if (since - start > withinMs) throw new Error(`${what} kept rising for ${since - start} ms`);
      return;
    }
    if (Date.now() - start > withinMs + quietMs + 2000) throw new Error(`${what} never stopped rising`);
  }
}

/** Resolves once `count()` has risen by `by` from now. */
export async function rises(what: string, count: () => number, by = 10, timeoutMs = 10_000): Promise<void> {
  const from = count();
  await eventually(`${what} rises by ${by} (from ${from})`, () => count() >= from + by, timeoutMs);
}

/**
 * Voice clients joined through the control protocol: offers pushed for a participant are
 * answered by its peer, as the API would relay them to the browser and back.
 */
export class VoiceRoom {
  readonly peers = new Map<string, VoicePeer>();
  private readonly off: () => void;
  offersSeen = 0;

  constructor(
    readonly control: ControlClient,
    readonly roomId: string,
  ) {
    this.off = control.onEvent((e) => {
      if (e.event !== 'offer') return;
      const peer = this.peers.get(e.participantId);
      if (!peer) return;
      this.offersSeen++;
      void peer
        .answer(String(e.sdp))
        .then((sdp) => control.call('answer', { participantId: e.participantId, sdp }))
        .catch(() => {});
    });
  }

  async join(participantId: string, options: { level?: number; send?: boolean; payloadBytes?: number; connectTimeoutMs?: number } = {}): Promise<VoicePeer> {
    const peer = new VoicePeer(participantId, { payloadBytes: options.payloadBytes });
    peer.level = options.level ?? 127;
    this.peers.set(participantId, peer);
    const { offer } = await this.control.call<{ offer: string }>('join', { roomId: this.roomId, participantId, userId: `user-${participantId}` });
    await this.control.call('answer', { participantId, sdp: await peer.answer(offer) });
    await eventually(
      `${participantId} is connected`,
      () => {
        // a failed connection does not come back: say so now rather than at the timeout
        if (peer.failed) throw new Error(`${participantId}'s connection failed (${peer.connectionState}, ice ${peer.pc.iceConnectionState})`);
        return peer.connectionState === 'connected';
      },
      options.connectTimeoutMs ?? 10_000,
    );
    if (options.send !== false) peer.start();
    return peer;
  }

  /** Takes a participant out: off the node, its peer closed (a join that failed, before trying again). */
  async drop(participantId: string): Promise<void> {
    const peer = this.peers.get(participantId);
    this.peers.delete(participantId);
    await this.control.request('leave', { participantId });
    await peer?.close();
  }

  peer(id: string): VoicePeer {
    return this.peers.get(id)!;
  }

  async close(): Promise<void> {
    this.off();
    await Promise.all([...this.peers.values()].map((p) => p.close()));
  }
}
