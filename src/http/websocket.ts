// GraphQL over WebSocket: the graphql-transport-ws protocol (what the graphql-ws client,
// GraphiQL, Apollo and urql speak), served here rather than by graphql-ws's server so that
// an event is executed and serialized once per cohort and the same bytes go to every socket
// (src/realtime/delivery). Message parsing and close codes come from graphql-ws itself.
//
// A connection authenticates once, in connection_init; a refused token closes it with 4403,
// as does the token's expiry, so clients refresh and reconnect. A signed-in connection counts
// for presence while it is open.
import type { IncomingMessage, Server } from 'node:http';
import {
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  createSourceEventStream,
  execute,
} from 'graphql';
import { CloseCode, MessageType, type SubscribePayload, parseMessage } from 'graphql-ws';
import { isAsyncIterable } from 'graphql-yoga';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { type WebSocket, WebSocketServer } from 'ws';
import type { GraphQLContext } from '../context.js';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub/topics.js';
import { type Cohort, Cohorts, type Payload } from '../realtime/delivery/cohorts.js';
import { OperationCache, type ParseAndValidate, type PreparedOperation } from '../realtime/delivery/operations.js';
import type { Actor } from '../services/actor.js';
import type { Services } from '../services/index.js';
import { EventStream } from '../services/streams.js';

const PROTOCOL = 'graphql-transport-ws';
const CLOSE_BRACE = Buffer.from('}');

export interface WebSocketOptions {
  httpServer: Server;
  path: string;
  schema: GraphQLSchema;
  services: Services;
  newContext: (actor: Actor, clientAddress?: string | null) => GraphQLContext;
  /** the client's address as limits count it (behind trusted proxies, from X-Forwarded-For) */
  clientAddress: (req: IncomingMessage) => string | null;
  parseAndValidate: ParseAndValidate;
  /** the HTTP path's error masking, so both transports answer alike */
  maskError: (error: unknown, message: string) => Error;
  log: Logger;
  /** where ended sessions are announced: their sockets close at once */
  pubsub: PubSub;
  /** frames larger than this close the socket with 1009 before they are buffered */
  maxMessageBytes: number;
  /** a socket whose unsent data exceeds this is too slow to keep up: it is dropped */
  maxBufferedBytes: number;
  /** per socket, and per user on this instance: past either, a subscribe is refused */
  maxSubscriptionsPerSocket: number;
  maxSubscriptionsPerUser: number;
  /** sockets one user may hold on this instance; the next closes with 4429 */
  maxConnectionsPerUser: number;
  /** WebSocket handshakes one client address may start per minute on this instance (HTTP 429 past it) */
  connectionAttemptsPerMinute: number;
  connectionInitTimeoutMs?: number;
  /** how often each socket is pinged; one that has not answered the previous ping is dropped */
  heartbeatMs?: number;
}

export interface WebSocketTransport {
  /** live connections and subscriptions on this instance */
  stats(): { connections: number; subscriptions: number; cohorts: number; executions: number };
  /** closes every socket with 1001 (going away) and stops accepting new ones */
  close(): Promise<void>;
}

interface Subscription {
  readonly id: string;
  readonly cohort: Cohort;
  readonly source: AsyncIterator<unknown>;
  /** deliveries waiting for an execution still running, in order */
  tail: Promise<void> | null;
  /** the client completed it or the socket closed: nothing more is sent */
  cancelled: boolean;
}

interface Connection {
  readonly socket: WebSocket;
  /** the client's address, for the limits operations sent over the socket count against */
  readonly address: string | null;
  initialised: boolean;
  actor: Actor | null;
  /** null while the subscription is being set up */
  readonly subscriptions: Map<string, Subscription | null>;
  /** connection_init must arrive by then (ms since the epoch) */
  initDeadline: number;
  /** when its access token expires (ms since the epoch); 0: never (anonymous) */
  expiresAt: number;
  /** the presence registration while it is being made, then its connection id */
  presence: Promise<string | null> | string | null;
  /** answered the last ping (or has not been pinged yet) */
  alive: boolean;
  /** when it is pinged next (ms since the epoch) */
  nextPingAt: number;
}

export async function attachWebSocket(options: WebSocketOptions): Promise<WebSocketTransport> {
  const { schema, services, newContext, log } = options;
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const operations = new OperationCache(schema, options.parseAndValidate);
  const serialize = (result: ExecutionResult): Buffer => {
    if (!result.errors?.length) return Buffer.from(JSON.stringify(result));
    const errors = result.errors.map((error) => (options.maskError(error, 'Unexpected error.') as GraphQLError).toJSON());
    return Buffer.from(JSON.stringify({ ...result, errors }));
  };
  const cohorts = new Cohorts(
    (cohort, event) =>
      execute({
        schema,
        document: cohort.operation.document,
        operationName: cohort.operation.operationName,
        variableValues: cohort.variables,
        rootValue: event,
        // a shared cohort executes as nobody: a field that reads the viewer without being
        // marked viewerDependent fails closed instead of answering for somebody else
        contextValue: newContext(cohort.viewer ? cohort.viewer.fresh() : services.auth.anonymous()),
      }) as ExecutionResult | Promise<ExecutionResult>,
    serialize,
  );
  const connections = new Set<Connection>();
  const connectionOf = new WeakMap<WebSocket, Connection>();
  const perUser = new Map<string, { connections: number; subscriptions: number }>();
  let subscriptionCount = 0;
  const attempts = new RateLimiterMemory({ points: Math.max(1, options.connectionAttemptsPerMinute), duration: 60 });
  // a signed-out (or reused-token) session ends its sockets everywhere: 4403, like expiry
  const stopListening = await options.pubsub.listen('sessionEnded', 'all', ({ sessionId }) => {
    // sign-outs are rare and a scan is cheap: no index per session for every socket to keep
    for (const conn of connections) {
      if (conn.actor?.sessionId === sessionId) conn.socket.close(CloseCode.Forbidden, 'Forbidden: session ended');
    }
  });

  const wss = new WebSocketServer({
    server: options.httpServer,
    path: options.path,
    maxPayload: options.maxMessageBytes,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
    verifyClient: (info, done) => {
      if (options.connectionAttemptsPerMinute <= 0) return done(true);
      attempts.consume(options.clientAddress(info.req) ?? 'unknown').then(
        () => done(true),
        (res: unknown) =>
          done(false, 429, 'Too Many Requests', {
            'retry-after': String(Math.ceil(((res as { msBeforeNext?: number }).msBeforeNext ?? 60_000) / 1000)),
          }),
      );
    },
  });
  wss.on('error', (err) => log.error({ err }, 'websocket server error'));

  const sendJson = (conn: Connection, message: unknown) => {
    if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(message));
  };

  const sendPayload = (conn: Connection, sub: Subscription, payload: Buffer) => {
    const { socket } = conn;
    if (sub.cancelled || socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > options.maxBufferedBytes) {
      // it would hold every event for everyone in memory; it reconnects and resumes instead
      log.warn({ bufferedAmount: socket.bufferedAmount }, 'dropping a websocket that cannot keep up');
      socket.terminate();
      return;
    }
    // the frame's head is made per send: kept per subscription, it is memory every idle one pays
    socket.send(Buffer.concat([nextPrefix(sub.id), payload, CLOSE_BRACE]), { binary: false });
  };

  const deliver = (conn: Connection, sub: Subscription, event: unknown) => {
    let payload: Payload;
    try {
      payload = cohorts.payloadFor(sub.cohort, event);
    } catch (err) {
      log.error({ err }, 'event execution failed');
      return;
    }
    if (!sub.tail && Buffer.isBuffer(payload)) {
      sendPayload(conn, sub, payload);
      return;
    }
    const tail: Promise<void> = (sub.tail ?? Promise.resolve())
      .then(() => payload)
      .then(
        (bytes) => sendPayload(conn, sub, bytes),
        (err: unknown) => log.error({ err }, 'event execution failed'),
      )
      .finally(() => {
        if (sub.tail === tail) sub.tail = null;
      });
    sub.tail = tail;
  };

  const userCounts = (conn: Connection) => {
    const userId = conn.actor?.userId;
    if (!userId) return null;
    let counts = perUser.get(userId);
    if (!counts) perUser.set(userId, (counts = { connections: 0, subscriptions: 0 }));
    return counts;
  };
  const forgetUserIfIdle = (conn: Connection) => {
    const userId = conn.actor?.userId;
    const counts = userId ? perUser.get(userId) : undefined;
    if (counts && counts.connections <= 0 && counts.subscriptions <= 0) perUser.delete(userId!);
  };

  const release = (conn: Connection, sub: Subscription) => {
    if (conn.subscriptions.get(sub.id) === sub) conn.subscriptions.delete(sub.id);
    cohorts.leave(sub.cohort);
    subscriptionCount -= 1;
    const counts = userCounts(conn);
    if (counts) counts.subscriptions -= 1;
    forgetUserIfIdle(conn);
  };

  /** The source ended (cut by the server, or the guild was deleted): complete it, after
   *  whatever was already on its way. */
  const ended = (conn: Connection, sub: Subscription) => {
    const complete = () => {
      if (sub.cancelled) return;
      sub.cancelled = true;
      release(conn, sub);
      sendJson(conn, { id: sub.id, type: MessageType.Complete });
    };
    if (sub.tail) void sub.tail.then(complete);
    else complete();
  };

  const cancel = (conn: Connection, sub: Subscription) => {
    if (sub.cancelled) return;
    sub.cancelled = true;
    release(conn, sub);
    void sub.source.return?.();
  };

  /** Runs the operation; true when it became a live subscription of the socket. */
  const startOperation = async (conn: Connection, id: string, payload: SubscribePayload): Promise<boolean> => {
    const prepared = operations.get(payload.query, payload.operationName);
    if (Array.isArray(prepared)) {
      if (conn.subscriptions.has(id)) {
        sendJson(conn, { id, type: MessageType.Error, payload: prepared.map((e) => maskedJson(options.maskError(e, 'Unexpected error.'))) });
      }
      return false;
    }
    const operation = prepared as PreparedOperation;
    const variables = (payload.variables ?? {}) as Record<string, unknown>;
    const actor = (conn.actor ?? services.auth.anonymous()).fresh();
    const args = {
      schema,
      document: operation.document,
      operationName: operation.operationName,
      variableValues: variables,
      contextValue: newContext(actor, conn.address),
    };
    if (operation.kind !== 'subscription') {
      const result = await execute(args);
      if (!conn.subscriptions.has(id)) return false;
      conn.socket.send(Buffer.concat([nextPrefix(id), serialize(result), CLOSE_BRACE]), { binary: false });
      sendJson(conn, { id, type: MessageType.Complete });
      return false;
    }
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) {
      if (!conn.subscriptions.has(id)) return false;
      conn.socket.send(Buffer.concat([nextPrefix(id), serialize(source as ExecutionResult), CLOSE_BRACE]), {
        binary: false,
      });
      sendJson(conn, { id, type: MessageType.Complete });
      return false;
    }
    const iterator = source[Symbol.asyncIterator]();
    if (!conn.subscriptions.has(id) || conn.socket.readyState !== conn.socket.OPEN) {
      void iterator.return?.();
      return false;
    }
    const sub: Subscription = {
      id,
      cohort: cohorts.join(operation, variables, actor),
      source: iterator,
      tail: null,
      cancelled: false,
    };
    subscriptionCount += 1;
    conn.subscriptions.set(id, sub);
    if (iterator instanceof EventStream) {
      iterator.drain(
        (event) => deliver(conn, sub, event),
        () => ended(conn, sub),
      );
      return true;
    }
    // any other async iterable: pulled one event at a time
    void (async () => {
      try {
        for (let step = await iterator.next(); !step.done && !sub.cancelled; step = await iterator.next()) {
          deliver(conn, sub, step.value);
        }
      } catch (err) {
        log.error({ err }, 'subscription source failed');
      }
      ended(conn, sub);
    })();
    return true;
  };

  /** Why one more operation may not start on this socket, or null. */
  const subscriptionLimitReached = (conn: Connection): string | null => {
    if (conn.subscriptions.size >= options.maxSubscriptionsPerSocket) {
      return `Too many operations on one connection (at most ${options.maxSubscriptionsPerSocket}).`;
    }
    const counts = conn.actor?.userId ? perUser.get(conn.actor.userId) : undefined;
    if (counts && counts.subscriptions >= options.maxSubscriptionsPerUser) {
      return `Too many subscriptions for one user (at most ${options.maxSubscriptionsPerUser}).`;
    }
    return null;
  };

  const onConnectionInit = async (conn: Connection, payload: Record<string, unknown> | undefined) => {
    const authorization = payload?.authorization ?? payload?.Authorization;
    const actor = await services.auth.authenticate(typeof authorization === 'string' ? authorization : undefined);
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (actor.authError) {
      // refused, not anonymous: the client must refresh its token and reconnect
      conn.socket.close(CloseCode.Forbidden, 'Forbidden: access token refused');
      return;
    }
    if (actor.userId && (perUser.get(actor.userId)?.connections ?? 0) >= options.maxConnectionsPerUser) {
      conn.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many connections for this user');
      return;
    }
    conn.actor = actor;
    const counts = userCounts(conn);
    if (counts) counts.connections += 1;
    const userId = actor.userId;
    if (userId) {
      const registering = services.presence.connected(userId).then(
        (connectionId) => connectionId,
        (err: unknown) => {
          log.warn({ err }, 'presence connect failed');
          return null;
        },
      );
      conn.presence = registering;
      void registering.then((connectionId) => {
        if (conn.presence === registering) conn.presence = connectionId;
      });
    }
    conn.expiresAt = actor.expiresAt ?? 0;
    sendJson(conn, { type: MessageType.ConnectionAck });
  };

  const onMessage = async (conn: Connection, data: string) => {
    let message;
    try {
      message = parseMessage(data);
    } catch {
      conn.socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (conn.initialised) {
          conn.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
          return;
        }
        conn.initialised = true;
        await onConnectionInit(conn, message.payload);
        return;
      }
      case MessageType.Ping:
        sendJson(conn, message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong });
        return;
      case MessageType.Pong:
        return;
      case MessageType.Subscribe: {
        if (!conn.actor) {
          conn.socket.close(CloseCode.Unauthorized, 'Unauthorized');
          return;
        }
        const { id } = message;
        if (conn.subscriptions.has(id)) {
          conn.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
          return;
        }
        const refusal = subscriptionLimitReached(conn);
        if (refusal) {
          sendJson(conn, { id, type: MessageType.Error, payload: [{ message: refusal, extensions: { code: 'FORBIDDEN' } }] });
          return;
        }
        // counted from now, so that a burst of subscribes cannot slip past the limits
        const counts = userCounts(conn);
        if (counts) counts.subscriptions += 1;
        conn.subscriptions.set(id, null);
        let live = false;
        try {
          live = await startOperation(conn, id, message.payload);
        } finally {
          if (conn.subscriptions.get(id) === null) conn.subscriptions.delete(id);
          // a live subscription gives its place back in release()
          if (!live && counts) {
            counts.subscriptions -= 1;
            forgetUserIfIdle(conn);
          }
        }
        return;
      }
      case MessageType.Complete: {
        const sub = conn.subscriptions.get(message.id);
        conn.subscriptions.delete(message.id);
        if (sub) cancel(conn, sub);
        return;
      }
      default:
        conn.socket.close(CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  };

  const onClose = (conn: Connection) => {
    connections.delete(conn);
    for (const sub of [...conn.subscriptions.values()]) if (sub) cancel(conn, sub);
    conn.subscriptions.clear();
    const counts = userCounts(conn);
    if (counts) counts.connections -= 1;
    forgetUserIfIdle(conn);
    const userId = conn.actor?.userId;
    if (userId && conn.presence) {
      void Promise.resolve(conn.presence)
        .then((connectionId) => (connectionId ? services.presence.disconnected(userId, connectionId) : undefined))
        .catch((err) => log.warn({ err }, 'presence disconnect failed'));
    }
  };

  // Handlers shared by every socket (ws calls them with the socket as `this`): closures per
  // socket are memory every idle connection would pay.
  function onSocketMessage(this: WebSocket, data: unknown, isBinary: boolean) {
    const conn = connectionOf.get(this);
    if (!conn) return;
    const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data);
    onMessage(conn, text).catch((err: unknown) => {
      log.error({ err }, 'websocket message handling failed');
      this.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }
  function onSocketPong(this: WebSocket) {
    const conn = connectionOf.get(this);
    if (conn) conn.alive = true;
  }
  function onSocketError(this: WebSocket, err: Error) {
    log.debug({ err: err.message }, 'websocket error');
  }
  function onSocketClose(this: WebSocket) {
    const conn = connectionOf.get(this);
    if (conn) onClose(conn);
  }

  wss.on('connection', (socket, req) => {
    if (socket.protocol !== PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    const conn: Connection = {
      socket,
      address: options.clientAddress(req),
      initialised: false,
      actor: null,
      subscriptions: new Map(),
      initDeadline: Date.now() + (options.connectionInitTimeoutMs ?? 3_000),
      expiresAt: 0,
      presence: null,
      alive: true,
      // a random first turn spreads the pings of sockets that connected together over the interval
      nextPingAt: Date.now() + Math.random() * heartbeatMs,
    };
    connections.add(conn);
    connectionOf.set(socket, conn);
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('error', onSocketError);
    socket.once('close', onSocketClose);
  });

  // One timer for every socket, not one per socket: a connection_init that does not come in
  // time closes with 4408, an expired token with 4403 (the client refreshes and reconnects),
  // each within a tick. Each socket is pinged once per heartbeatMs, at its own turn, so that
  // the pings of thousands of sockets (a write each) are spread over the interval instead of
  // holding the event loop in one burst; a peer that did not answer the previous ping is gone
  // (its TCP connection may never say so).
  const tickMs = Math.min(1_000, Math.max(10, Math.floor(heartbeatMs / 4)));
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const conn of connections) {
      if (!conn.initialised && conn.initDeadline <= now) {
        conn.initialised = true;
        conn.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      } else if (conn.expiresAt && conn.expiresAt <= now) {
        conn.expiresAt = 0;
        conn.socket.close(CloseCode.Forbidden, 'Forbidden: access token expired');
      } else if (conn.nextPingAt <= now) {
        if (!conn.alive) {
          conn.socket.terminate();
          continue;
        }
        conn.alive = false;
        conn.nextPingAt = now + heartbeatMs;
        conn.socket.ping();
      }
    }
  }, tickMs);
  ticker.unref();

  return {
    stats: () => ({
      connections: connections.size,
      subscriptions: subscriptionCount,
      cohorts: cohorts.size,
      executions: cohorts.executions,
    }),
    async close() {
      clearInterval(ticker);
      await stopListening();
      for (const conn of connections) conn.socket.close(1001, 'Going away');
      // a peer that does not answer the close handshake is cut after a grace period
      const cut = setTimeout(() => {
        for (const conn of connections) conn.socket.terminate();
      }, 2_000);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      clearTimeout(cut);
    },
  };
}

function nextPrefix(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`);
}

function maskedJson(error: Error) {
  return error instanceof GraphQLError ? error.toJSON() : { message: error.message };
}

