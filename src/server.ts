// Builds the whole service: database, PubSub, services, GraphQL over HTTP, SSE and
// WebSocket, health and metrics. src/index.ts starts it; tests start it on a free port.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import type { Config } from './config.js';
import { type GraphQLContext, clientAddressOf, createContext } from './context.js';
import { type Database, openDatabase } from './db/client.js';
import { migrateDatabase } from './db/migrate.js';
import { createCorsPolicy } from './http/cors.js';
import { createErrorMasker } from './http/errors.js';
import { createGraphiQLRenderer, graphiqlHeaders, graphiqlOptions } from './http/graphiql.js';
import { createMetrics } from './http/metrics.js';
import { persistedQueries } from './http/persistedQueries.js';
import { withRequestId } from './http/requestId.js';
import { csrfPrevention, disableIntrospection, unreadableRequestsAreBadRequests } from './http/requestGuards.js';
import { enforceBodyDeadline, httpServerOptions } from './http/timeouts.js';
import { createHealthRoutes } from './http/health.js';
import { createUploadRoutes } from './http/uploads.js';
import { WEB_DIST_DIR, createWebClientRoutes } from './http/webClient.js';
import { sessionBoundStreams } from './http/sessionBoundStreams.js';
import { type WebSocketTransport, attachWebSocket } from './http/websocket.js';
import { type Logger, createLogger } from './logger.js';
import type { PubSub } from './pubsub/topics.js';
import { createRealtimeBackend } from './realtime/index.js';
import { schema } from './schema/index.js';
import type { Actor } from './services/actor.js';
import { createServices } from './services/index.js';

export interface App {
  /** Listens on `port` (0 picks a free one); resolves to the bound port. */
  start(port?: number, host?: string): Promise<number>;
  stop(): Promise<void>;
  readonly url: string;
  readonly db: Database;
  /** the WebSocket transport: connections, subscriptions and shared executions */
  readonly websocket: WebSocketTransport;
  readonly pubsub: PubSub;
  readonly log: Logger;
  /** where /metrics is served when METRICS_PORT gives it a listener of its own (after start) */
  readonly metricsUrl: string | undefined;
}

export interface AppOptions {
  config: Config;
  log?: Logger;
}

export async function buildApp({ config, log = createLogger(config.LOG_LEVEL) }: AppOptions): Promise<App> {
  if (config.jwtSecretGenerated) {
    log.warn('JWT_SECRET is not set: using a random secret. Tokens will not survive a restart or work across instances.');
  }
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, pgliteDataDir: config.PGLITE_DATA_DIR });
  if (config.MIGRATE_ON_START) {
    const applied = await migrateDatabase(db);
    if (applied.length) log.info({ applied }, 'applied migrations');
  }
  const realtime = await createRealtimeBackend(config, log);
  const { pubsub } = realtime;
  const services = createServices({
    db: db.prisma,
    pubsub,
    config,
    connections: realtime.connections,
    typingRegistry: realtime.typingRegistry,
    redis: realtime.redis,
    onError: (err, what = 'presence heartbeat failed') => log.warn({ err }, what),
  });
  services.presence.start();
  await services.auth.start();
  // Upload housekeeping; every instance may run it, the deletes are idempotent.
  const uploadTtlMs = config.UNATTACHED_UPLOAD_TTL_SECONDS * 1000;
  const uploadSweep = setInterval(() => {
    services.attachments
      .sweep(new Date(Date.now() - uploadTtlMs))
      .then((removed) => removed && log.info({ removed }, 'removed stale upload files'))
      .catch((err) => log.warn({ err }, 'upload sweep failed'));
    // sendMessage nonces past their window may be used again
    services.messages.sweepNonces().catch((err) => log.warn({ err }, 'nonce sweep failed'));
  }, Math.min(uploadTtlMs / 2, 3_600_000));
  uploadSweep.unref();
  const uploads = createUploadRoutes({ attachments: services.attachments, auth: services.auth, log });
  const web = createWebClientRoutes({ distDir: WEB_DIST_DIR, log });

  const newContext = (actor: Actor, clientAddress?: string | null) =>
    createContext({ services, prisma: db.prisma, pubsub, config }, actor, clientAddress);
  const errorMasker = createErrorMasker(log, { hideSuggestions: config.NODE_ENV === 'production' });
  const metrics = createMetrics({ config, log });
  const cors = createCorsPolicy(config);
  const sseSessions = await sessionBoundStreams(pubsub);
  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: config.GRAPHIQL ? graphiqlOptions : false,
    renderGraphiQL: createGraphiQLRenderer(),
    // CORS for every route is answered before yoga (src/http/cors.ts)
    cors: false,
    batching: config.GRAPHQL_BATCH_LIMIT > 0 ? { limit: config.GRAPHQL_BATCH_LIMIT } : false,
    landingPage: false,
    logging: log,
    maskedErrors: { maskError: errorMasker },
    maxRequestBodySize: uploads.graphqlMaxRequestBytes,
    context: async ({ request, req }: { request: Request; req?: IncomingMessage }) =>
      newContext(
        await services.auth.authenticate(request.headers.get('authorization')),
        clientAddressOf(req?.socket.remoteAddress, request.headers.get('x-forwarded-for'), config.TRUST_PROXY),
      ),
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: config.GRAPHQL_MAX_DEPTH, ignoreIntrospection: true },
        maxTokens: { n: config.GRAPHQL_MAX_TOKENS },
        maxAliases: { n: 30 },
        maxDirectives: { n: 30 },
        costLimit: { maxCost: 20_000 },
        blockFieldSuggestion: { enabled: config.NODE_ENV === 'production' },
      }),
      metrics.yogaPlugin,
      sseSessions.plugin,
      csrfPrevention(),
      ...(config.GRAPHQL_INTROSPECTION ? [] : [disableIntrospection()]),
      persistedQueries(),
      graphiqlHeaders('/graphql'),
      uploads.yogaPlugin,
      // after every plugin that replaces the request parser: it wraps the final one
      unreadableRequestsAreBadRequests(),
    ],
  });

  const health = createHealthRoutes({
    checks: { database: () => db.ping(), ...(realtime.kind === 'redis' ? { redis: () => realtime.ping() } : {}) },
    timeoutMs: 800,
    log,
  });

  const httpServer = createServer(httpServerOptions(config), (req, res) =>
    withRequestId(req, res, () => {
      metrics.track(req, res);
      enforceBodyDeadline(req, res, config);
      if (cors.handle(req, res)) return;
      metrics
        .handle(req, res)
        .then((handled) => handled || health.handle(req, res))
        .then((handled) => handled || uploads.handle(req, res))
        .then((handled) => handled || web.handle(req, res))
        .then((handled) => (handled ? undefined : yoga.requestListener(req, res)))
        .catch((err) => {
          log.error({ err }, 'request failed');
          if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        });
    }),
  );

  const websocket = await attachWebSocket({
    httpServer,
    path: yoga.graphqlEndpoint,
    schema,
    services,
    newContext,
    clientAddress: (req) => clientAddressOf(req.socket.remoteAddress, headerValue(req.headers['x-forwarded-for']), config.TRUST_PROXY),
    parseAndValidate: (query) => {
      const enveloped = yoga.getEnveloped({ params: { query } });
      let document;
      try {
        document = enveloped.parse(query);
      } catch (err) {
        return [err instanceof GraphQLError ? err : new GraphQLError('Syntax error')];
      }
      const errors = enveloped.validate(enveloped.schema, document);
      return errors.length ? errors : document;
    },
    maskError: errorMasker,
    log,
    pubsub,
    maxMessageBytes: config.WS_MAX_MESSAGE_BYTES,
    maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
    maxSubscriptionsPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    maxSubscriptionsPerUser: config.WS_MAX_SUBSCRIPTIONS_PER_USER,
    maxConnectionsPerUser: config.WS_MAX_CONNECTIONS_PER_USER,
    connectionAttemptsPerMinute: config.WS_CONNECTIONS_PER_MINUTE_PER_ADDRESS,
  });

  let url = '';
  let metricsUrl: string | undefined;
  return {
    db,
    websocket,
    pubsub,
    log,
    get url() {
      return url;
    },
    get metricsUrl() {
      return metricsUrl;
    },
    async start(port = config.PORT, host = config.HOST) {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, resolve);
      });
      const bound = (httpServer.address() as AddressInfo).port;
      url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`;
      metricsUrl = await metrics.start();
      return bound;
    },
    /** Graceful: sockets are closed with 1001 (going away) so clients reconnect elsewhere,
     *  this instance's users are marked offline, then the backends are released. Every step
     *  runs even when an earlier one failed; the failures are logged, then reported together. */
    async stop() {
      clearInterval(uploadSweep);
      const failed: string[] = [];
      const step = async (name: string, run: () => Promise<unknown>, { critical = true } = {}) => {
        const started = Date.now();
        try {
          await run();
          log.debug({ step: name, ms: Date.now() - started }, 'shutdown step done');
        } catch (err) {
          if (critical) failed.push(name);
          log[critical ? 'error' : 'warn']({ err, step: name }, 'shutdown step failed');
        }
      };
      // no new connections; requests in flight finish (up to SHUTDOWN_TIMEOUT_MS), idle
      // keep-alive connections go now, subscriptions end so their clients reconnect elsewhere
      const drained = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      await step('websocket', () => websocket.close());
      await step('sse streams', () => sseSessions.close());
      await step('http', async () => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), config.SHUTDOWN_TIMEOUT_MS)));
        // a keep-alive connection whose request just finished is idle now: let it go too
        const idle = setInterval(() => httpServer.closeIdleConnections(), 50);
        const outcome = await Promise.race([drained, late]);
        clearTimeout(timer);
        clearInterval(idle);
        if (outcome === 'late') {
          log.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'requests still running at the shutdown deadline were cut');
          httpServer.closeAllConnections();
          await drained;
        }
      });
      await step('metrics', () => metrics.stop(), { critical: false });
      // users this instance held still go offline when their presence entries expire
      await step('presence', () => services.presence.stop(), { critical: false });
      await step('realtime', () => realtime.close());
      await step('database', () => db.close());
      if (failed.length) throw new Error(`shutdown steps failed: ${failed.join(', ')}`);
    },
  };
}

const headerValue = (value: string | string[] | undefined): string | null =>
  Array.isArray(value) ? value.join(',') : (value ?? null);

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
