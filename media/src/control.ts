// The control socket the API drives the node through (protocol: docs/VOICE.md).
//
// Several API instances may hold connections at once. A connection claims the participants it
// joined or acted on; a room's events go to every connection that claims one of its
// participants. When a connection drops, its participants stay for the grace period so another
// API instance can claim them (op `claim`, or any op on them); whatever nobody claimed by then is
// torn down, so an API crash leaves no participant forwarding into the void.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { MediaError, type MediaNode, type MediaNodeEvents } from './node.js';

export const CONTROL_PATH = '/control';
const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface ControlServerOptions {
  node: MediaNode;
  nodeId: string;
  secret: string;
  graceMs: number;
  log: Logger;
}

type Request = { id?: unknown; op?: unknown } & Record<string, unknown>;

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of the bearer token with the secret (hashing first hides the length too). */
export function bearerMatches(header: string | undefined, secret: string): boolean {
  const token = /^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(token), digest(secret)) && token.length > 0;
}

class Connection {
  readonly claimed = new Set<string>();
  constructor(readonly ws: WebSocket) {}
  send(msg: object) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }
}

export class ControlServer {
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  /** participant id → the connections that claim it */
  private readonly claims = new Map<string, Set<Connection>>();
  private readonly orphanTimers = new Set<NodeJS.Timeout>();
  private readonly detach: () => void;

  constructor(private readonly options: ControlServerOptions) {
    const { node, log } = options;
    this.http = http.createServer((req, res) => {
      // liveness for process managers and the benchmark; says nothing secret
      if (req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: options.nodeId, rooms: node.roomCount, participants: node.participantCount }));
        return;
      }
      res.writeHead(404).end();
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
    this.http.on('upgrade', (req, socket, head) => {
      const path = (req.url ?? '').split('?')[0];
      const reject = (status: string) => {
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      };
      if (path !== CONTROL_PATH) return reject('404 Not Found');
      if (!bearerMatches(req.headers.authorization, options.secret)) {
        log.warn({ remote: req.socket.remoteAddress }, 'media control: rejected a connection with a wrong or missing secret');
        return reject('401 Unauthorized');
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });

    const relay = <K extends keyof MediaNodeEvents>(event: K) => {
      const handler = (e: MediaNodeEvents[K][0]) => {
        this.broadcast(e.roomId, e.participantId, { event, ...e });
        if (event === 'left') this.claims.delete(e.participantId);
      };
      node.on(event, handler as never);
      return () => node.off(event, handler as never);
    };
    const off = (['offer', 'speaking', 'connection', 'left'] as const).map(relay);
    this.detach = () => off.forEach((f) => f());
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    return (this.http.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    this.detach();
    for (const t of this.orphanTimers) clearTimeout(t);
    this.orphanTimers.clear();
    for (const c of this.connections) c.ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private accept(ws: WebSocket) {
    const conn = new Connection(ws);
    this.connections.add(conn);
    this.options.log.info({ connections: this.connections.size }, 'media control: API connected');
    ws.on('message', (data, isBinary) => {
      if (isBinary) return conn.send({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'messages are JSON text' } });
      void this.handle(conn, data.toString());
    });
    ws.on('error', () => {});
    ws.on('close', () => this.dropped(conn));
  }

  private async handle(conn: Connection, text: string) {
    let req: Request;
    try {
      req = JSON.parse(text) as Request;
      if (!req || typeof req !== 'object' || Array.isArray(req)) throw new Error('not an object');
    } catch {
      return conn.send({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'a request is a JSON object { id, op, ... }' } });
    }
    const id = typeof req.id === 'string' || typeof req.id === 'number' ? req.id : null;
    try {
      if (id === null) throw new MediaError('BAD_REQUEST', 'id must be a string or a number');
      const result = await this.run(conn, req);
      conn.send({ id, ok: true, ...result });
    } catch (err) {
      if (err instanceof MediaError) return conn.send({ id, ok: false, error: { code: err.code, message: err.message } });
      this.options.log.error({ err, op: req.op }, 'media control: request failed');
      conn.send({ id, ok: false, error: { code: 'INTERNAL', message: 'the request failed on the media node' } });
    }
  }

  private async run(conn: Connection, req: Request): Promise<Record<string, unknown>> {
    const { node } = this.options;
    switch (req.op) {
      case 'ping':
        return { nodeId: this.options.nodeId };
      case 'join': {
        // claimed before the offer exists, so no event about the new participant is missed
        if (typeof req.participantId === 'string' && !node.has(req.participantId)) this.claim(conn, req.participantId);
        try {
          return await node.join({ roomId: req.roomId, participantId: req.participantId, userId: req.userId });
        } catch (err) {
          if (typeof req.participantId === 'string' && !node.has(req.participantId)) this.unclaim(conn, req.participantId);
          throw err;
        }
      }
      case 'answer':
        this.claimExisting(conn, req.participantId);
        await node.answer({ participantId: req.participantId, sdp: req.sdp });
        return {};
      case 'candidate':
        this.claimExisting(conn, req.participantId);
        await node.candidate({ participantId: req.participantId, candidate: req.candidate });
        return {};
      case 'setForwarding':
        this.claimExisting(conn, req.participantId);
        return node.setForwarding({ participantId: req.participantId, muted: req.muted, deafened: req.deafened });
      case 'leave':
        this.claimExisting(conn, req.participantId);
        await node.leave(req.participantId, 'left');
        return {};
      case 'claim': {
        const ids = Array.isArray(req.participantIds)
          ? req.participantIds
          : typeof req.roomId === 'string'
            ? node.participantIds(req.roomId)
            : undefined;
        if (!ids || !ids.every((p): p is string => typeof p === 'string'))
          throw new MediaError('BAD_REQUEST', 'claim takes participantIds (strings) or a roomId');
        const claimed = ids.filter((p) => node.has(p));
        for (const p of claimed) this.claim(conn, p);
        return { claimed, unknown: ids.filter((p) => !node.has(p)) };
      }
      case 'stats':
        return { nodeId: this.options.nodeId, participants: node.stats(req.roomId) };
      default:
        throw new MediaError('BAD_REQUEST', `unknown op ${JSON.stringify(req.op)} (known: join, answer, candidate, setForwarding, leave, claim, stats, ping)`);
    }
  }

  private claimExisting(conn: Connection, participantId: unknown) {
    if (typeof participantId === 'string' && this.options.node.has(participantId)) this.claim(conn, participantId);
  }

  private claim(conn: Connection, participantId: string) {
    let set = this.claims.get(participantId);
    if (!set) this.claims.set(participantId, (set = new Set()));
    set.add(conn);
    conn.claimed.add(participantId);
  }

  private unclaim(conn: Connection, participantId: string) {
    conn.claimed.delete(participantId);
    const set = this.claims.get(participantId);
    set?.delete(conn);
    if (set && !set.size) this.claims.delete(participantId);
  }

  private broadcast(roomId: string, participantId: string, msg: object) {
    const targets = new Set<Connection>(this.claims.get(participantId));
    for (const p of this.options.node.participantIds(roomId)) for (const c of this.claims.get(p) ?? []) targets.add(c);
    for (const c of targets) c.send(msg);
  }

  private dropped(conn: Connection) {
    this.connections.delete(conn);
    const orphans = [...conn.claimed];
    for (const p of orphans) this.unclaim(conn, p);
    const { log, graceMs, node } = this.options;
    log.warn({ participants: orphans.length, graceMs }, 'media control: API connection closed; its participants wait for a claim');
    if (!orphans.length) return;
    const timer = setTimeout(() => {
      this.orphanTimers.delete(timer);
      const unclaimed = orphans.filter((p) => node.has(p) && !this.claims.get(p)?.size);
      if (unclaimed.length) log.warn({ participants: unclaimed.length }, 'media control: nobody claimed these participants: tearing them down');
      for (const p of unclaimed) void node.leave(p, 'control-lost').catch(() => {});
    }, graceMs);
    this.orphanTimers.add(timer);
  }
}
