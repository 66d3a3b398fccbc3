// The API's side of the media nodes (docs/VOICE.md): which node carries a voice channel, one
// control WebSocket per node, and the node's events handed to the voice service.
//
// - Embedded default (no REDIS_URL, no MEDIA_URL): one node started in-process on 127.0.0.1,
//   a free port and a random secret, stopped with the app.
// - MEDIA_URL + MEDIA_SECRET: that external node carries every channel.
// - REDIS_URL: the live nodes announced in Redis (listMediaNodes); each voice channel is assigned
//   to one (a Redis key with a TTL, first writer wins, refreshed while this instance has
//   participants in it). A node whose announcement expires loses its participants.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { loadMediaConfig } from '../../media/src/config.js';
import { listMediaNodes } from '../../media/src/registry.js';
import type { RunningMediaNode } from '../../media/src/start.js';
import type { Config } from '../config.js';

export type MediaEvent =
  | { event: 'offer'; roomId: string; participantId: string; sdp: string }
  | { event: 'speaking'; roomId: string; participantId: string; speaking: boolean }
  | { event: 'connection'; roomId: string; participantId: string; state: string }
  | { event: 'left'; roomId: string; participantId: string; reason: string };

export class MediaUnavailableError extends Error {}

interface Reply {
  id: number;
  ok: boolean;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

/** One control WebSocket to one node: requests with replies, events to a handler. */
class ControlConnection {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  closed = false;

  private constructor(
    readonly nodeId: string,
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
    onEvent: (e: MediaEvent) => void,
    onClose: () => void,
  ) {
    ws.on('message', (data) => {
      let msg: Reply & Partial<MediaEvent>;
      try {
        msg = JSON.parse(data.toString()) as Reply & Partial<MediaEvent>;
      } catch {
        return;
      }
      if (typeof msg.event === 'string') return onEvent(msg as unknown as MediaEvent);
      const waiter = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      waiter?.resolve(msg);
    });
    ws.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w.reject(new MediaUnavailableError('media node connection closed'));
      this.waiting.clear();
      onClose();
    });
    ws.on('error', () => {});
  }

  static open(nodeId: string, url: string, secret: string, timeoutMs: number, onEvent: (e: MediaEvent) => void, onClose: () => void): Promise<ControlConnection> {
    return new Promise((resolve, reject) => {
      // handshakeTimeout: a node that takes the TCP connection and never answers is unreachable too
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${secret}` }, handshakeTimeout: timeoutMs });
      const fail = (err: Error) => {
        ws.terminate();
        reject(new MediaUnavailableError(`media node ${nodeId} unreachable: ${err.message}`));
      };
      ws.once('open', () => {
        ws.off('error', fail);
        resolve(new ControlConnection(nodeId, ws, timeoutMs, onEvent, onClose));
      });
      ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', fail);
    });
  }

  async call<T extends Record<string, unknown>>(op: string, args: Record<string, unknown>): Promise<T> {
    if (this.closed) throw new MediaUnavailableError('media node connection closed');
    const id = this.next++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      // a node that stops answering is as good as gone for this request
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new MediaUnavailableError(`media node ${this.nodeId} did not answer ${op} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.ws.send(JSON.stringify({ id, op, ...args }));
    });
    if (!reply.ok) throw Object.assign(new Error(`media ${op}: ${reply.error?.code} ${reply.error?.message}`), { code: reply.error?.code });
    return reply as unknown as T;
  }

  close() {
    this.closed = true;
    this.ws.close();
  }
}

export interface VoiceMediaOptions {
  config: Config;
  log: Logger;
  /** the shared Redis (with REDIS_URL): node announcements and room assignments */
  redis?: Redis;
}

const ROOM_TTL_MS = 60_000;

export class VoiceMedia {
  /** the in-process node of the embedded default, once something started it */
  private embedded?: Promise<RunningMediaNode>;
  /** node id → its control connection (or the connection under way) */
  private readonly connections = new Map<string, Promise<ControlConnection>>();
  /** participant → node id, for the participants this instance joined */
  private readonly participants = new Map<string, { nodeId: string; roomId: string }>();
  private readonly handlers = new Set<(e: MediaEvent) => void>();
  private readonly nodeLost = new Set<(participantIds: string[]) => void>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: VoiceMediaOptions) {}

  private get useRegistry() {
    return Boolean(this.options.redis) && !this.options.config.MEDIA_URL;
  }

  private get useEmbedded() {
    return !this.options.config.MEDIA_URL && !this.options.redis;
  }

  async start(): Promise<void> {
    const { log } = this.options;
    if (this.useRegistry) {
      // a node whose announcement lapsed is gone: its participants leave
      this.timer = setInterval(() => void this.checkNodes().catch((err: unknown) => log.warn({ err }, 'media node check failed')), 2_000);
      this.timer.unref();
    }
  }

  /**
   * Starts the embedded default's in-process node once the API serves (called after listen):
   * loading WebRTC (werift, its DTLS certificate code) costs a few hundred milliseconds of
   * start-up that chat does not need. A voice join that comes first starts it itself.
   */
  startEmbeddedInBackground(): void {
    if (!this.useEmbedded || this.stopped) return;
    this.embeddedNode().catch((err: unknown) => this.options.log.error({ err }, 'the embedded media node did not start: voice is unavailable'));
  }

  async ready(): Promise<void> {
    if (this.useEmbedded) await this.embeddedNode();
  }

  private embeddedNode(): Promise<RunningMediaNode> {
    if (this.embedded) return this.embedded;
    const { config, log } = this.options;
    const starting = import('../../media/src/start.js').then(({ startMediaNode }) =>
      startMediaNode(
        loadMediaConfig({
          NODE_ENV: config.NODE_ENV,
          MEDIA_HOST: '127.0.0.1',
          MEDIA_PORT: '0',
          MEDIA_SECRET: randomBytes(24).toString('base64url'),
          LOG_LEVEL: config.LOG_LEVEL,
        }),
        { log: log.child({ service: 'media-node' }) },
      ),
    );
    this.embedded = starting;
    // a failed start is tried again by the next join
    starting.catch(() => {
      if (this.embedded === starting) this.embedded = undefined;
    });
    return starting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const pending of this.connections.values()) void pending.then((c) => c.close(), () => {});
    this.connections.clear();
    const embedded = await this.embedded?.catch(() => undefined);
    await embedded?.stop();
    this.raw?.disconnect();
  }

  onEvent(handler: (e: MediaEvent) => void): void {
    this.handlers.add(handler);
  }

  /** Told of participants whose node went away (its connection closed, its announcement lapsed). */
  onNodeLost(handler: (participantIds: string[]) => void): void {
    this.nodeLost.add(handler);
  }

  /** Resolves once the node that carries (or will carry) the room is connected; MediaUnavailableError otherwise. */
  async reachable(roomId: string): Promise<void> {
    await this.connect(await this.nodeFor(roomId));
  }

  /** The node's offer for the participant's first connection. */
  async join(roomId: string, participantId: string, userId: string): Promise<string> {
    const nodeId = await this.nodeFor(roomId);
    const connection = await this.connect(nodeId);
    this.participants.set(participantId, { nodeId, roomId });
    try {
      const { offer } = await connection.call<{ offer: string }>('join', { roomId, participantId, userId });
      return offer;
    } catch (err) {
      this.participants.delete(participantId);
      throw err;
    }
  }

  async answer(participantId: string, sdp: string): Promise<void> {
    await (await this.connectionOf(participantId)).call('answer', { participantId, sdp });
  }

  async candidate(participantId: string, candidate: unknown): Promise<void> {
    await (await this.connectionOf(participantId)).call('candidate', { participantId, candidate });
  }

  async setForwarding(participantId: string, forwarding: { muted: boolean; deafened: boolean }): Promise<void> {
    if (!this.participants.has(participantId)) return;
    await (await this.connectionOf(participantId)).call('setForwarding', { participantId, ...forwarding });
  }

  async leave(participantId: string): Promise<void> {
    if (!this.participants.has(participantId)) return;
    const connection = await this.connectionOf(participantId).catch(() => null);
    this.participants.delete(participantId);
    await connection?.call('leave', { participantId }).catch(() => {});
  }

  /** Whether this instance joined the participant to a node (and it has not left). */
  has(participantId: string): boolean {
    return this.participants.has(participantId);
  }

  /** Per-participant counters of the node carrying the room (tests, diagnostics). */
  async stats(roomId: string) {
    const connection = await this.connect(await this.nodeFor(roomId));
    return connection.call<{ participants: { participantId: string; received: { packets: number }; sent: { packets: number } }[] }>('stats', { roomId });
  }

  private async connectionOf(participantId: string): Promise<ControlConnection> {
    const held = this.participants.get(participantId);
    if (!held) throw new MediaUnavailableError('no such participant on this instance');
    return this.connect(held.nodeId);
  }

  private async nodeFor(roomId: string): Promise<string> {
    const { config, redis } = this.options;
    if (this.useEmbedded) return (await this.embeddedNode().catch((err: unknown) => {
      throw new MediaUnavailableError(`the embedded media node did not start: ${(err as Error).message}`);
    })).id;
    if (config.MEDIA_URL) return 'external';
    const prefix = config.REDIS_KEY_PREFIX;
    const key = `voice:room:${roomId}`;
    const nodes = await listMediaNodes(this.rawRedis(), prefix);
    const assigned = await redis!.get(key);
    if (assigned && nodes.some((n) => n.id === assigned)) {
      await redis!.pexpire(key, ROOM_TTL_MS);
      return assigned;
    }
    const choice = nodes[0];
    if (!choice) throw new MediaUnavailableError('no media node is announced');
    // first writer wins; a stale assignment (its node gone) is replaced
    if (assigned) await redis!.set(key, choice.id, 'PX', ROOM_TTL_MS);
    else await redis!.set(key, choice.id, 'PX', ROOM_TTL_MS, 'NX');
    return (await redis!.get(key)) ?? choice.id;
  }

  /** listMediaNodes takes the deployment prefix itself: a client without ioredis' keyPrefix. */
  private rawRedis(): Redis {
    const redis = this.options.redis!;
    // offline queue on: the first command waits for this connection to open
    return (this.raw ??= redis.duplicate({ keyPrefix: '', enableOfflineQueue: true }));
  }
  private raw?: Redis;

  private connect(nodeId: string): Promise<ControlConnection> {
    let pending = this.connections.get(nodeId);
    if (pending) return pending;
    pending = (async () => {
      const { url, secret } = await this.addressOf(nodeId);
      return ControlConnection.open(
        nodeId,
        url,
        secret,
        this.options.config.MEDIA_TIMEOUT_MS,
        (e) => {
          if (e.event === 'left') {
            // the answer to our own leave, or the node dropping them: told once, for a participant still ours
            if (!this.participants.delete(e.participantId)) return;
          }
          for (const handler of this.handlers) handler(e);
        },
        () => this.lost(nodeId),
      );
    })();
    this.connections.set(nodeId, pending);
    pending.catch(() => {
      if (this.connections.get(nodeId) === pending) this.connections.delete(nodeId);
    });
    return pending;
  }

  private async addressOf(nodeId: string): Promise<{ url: string; secret: string }> {
    const { config } = this.options;
    if (this.useEmbedded) {
      const embedded = await this.embeddedNode();
      return { url: embedded.controlUrl, secret: embedded.secret };
    }
    if (config.MEDIA_URL) return { url: config.MEDIA_URL, secret: config.MEDIA_SECRET! };
    const node = (await listMediaNodes(this.rawRedis(), config.REDIS_KEY_PREFIX)).find((n) => n.id === nodeId);
    if (!node) throw new MediaUnavailableError(`media node ${nodeId} is gone`);
    if (!config.MEDIA_SECRET) throw new MediaUnavailableError('MEDIA_SECRET is not set: the API cannot open the nodes\' control sockets');
    return { url: node.controlUrl, secret: config.MEDIA_SECRET };
  }

  private lost(nodeId: string) {
    this.connections.delete(nodeId);
    if (this.stopped) return;
    const gone = [...this.participants].filter(([, p]) => p.nodeId === nodeId).map(([id]) => id);
    for (const id of gone) this.participants.delete(id);
    if (gone.length) for (const handler of this.nodeLost) handler(gone);
  }

  private async checkNodes() {
    // nothing to check (and no Redis connection to open) before this instance used a node
    if (this.connections.size === 0) return;
    const live = new Set((await listMediaNodes(this.rawRedis(), this.options.config.REDIS_KEY_PREFIX)).map((n) => n.id));
    for (const [nodeId, pending] of [...this.connections]) {
      if (live.has(nodeId)) continue;
      void pending.then((c) => c.close(), () => {});
      this.lost(nodeId);
    }
    // keep the rooms this instance has participants in assigned to their node
    const rooms = new Set([...this.participants.values()].filter((p) => live.has(p.nodeId)).map((p) => p.roomId));
    for (const roomId of rooms) await this.options.redis!.pexpire(`voice:room:${roomId}`, ROOM_TTL_MS);
  }
}
