// Builds the whole service: database, PubSub, services, GraphQL over HTTP, SSE and
// WebSocket, health and metrics. src/index.ts starts it; tests start it on a free port.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { clientAddressOf, createContext } from './context.js';
import { type Database, openDatabase } from './db/client.js';
import { migrateDatabase } from './db/migrate.js';
import { createCorsPolicy } from './http/cors.js';
import { createMetrics } from './http/metrics.js';
import { withRequestId } from './http/requestId.js';
import { enforceBodyDeadline, httpServerOptions } from './http/timeouts.js';
import { createHealthRoutes } from './http/health.js';
import { createGraphQLHandler } from './http/graphql.js';
import { createUploadRoutes } from './http/uploads.js';
import { WEB_DIST_DIR, createWebClientRoutes } from './http/webClient.js';
import { type WebSocketTransport, attachWebSocket } from './http/websocket.js';
import { type Logger, createLogger } from './logger.js';
import type { PubSub } from './pubsub/topics.js';
import { createRealtimeBackend } from './realtime/index.js';
import { schema } from './schema/index.js';
import type { Actor } from './services/actor.js';
import { createServices } from './services/index.js';
import { startHousekeeping } from './housekeeping.js';
import { drainHttp, runShutdown } from './shutdown.js';
import { sendJson } from './http/responses.js';
import { VoiceMedia } from './voice/media.js';

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
  /** Resolves once the embedded default's media node serves (at once with an external one):
   *  start() begins it in the background, after the API listens. */
  mediaReady(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  log?: Logger;
}

export async function buildApp({ config, log = createLogger(config.LOG_LEVEL) }: AppOptions): Promise<App> {
  if (config.jwtSecretGenerated) {
    log.warn('JWT_SECRET is not set: using a random secret. Tokens will not survive a restart or work across instances.');
    // the TOTP secrets are sealed with a key derived from it
    if (!config.TOTP_ENCRYPTION_KEY) log.warn('Nor is TOTP_ENCRYPTION_KEY: two-factor enrolments will not survive a restart (recovery codes will).');
  }
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, pgliteDataDir: config.PGLITE_DATA_DIR });
  if (config.MIGRATE_ON_START) {
    const applied = await migrateDatabase(db);
    if (applied.length) log.info({ applied }, 'applied migrations');
  }
  const realtime = await createRealtimeBackend(config, log);
  const { pubsub } = realtime;
  const media = new VoiceMedia({ config, log, redis: realtime.redis });
  await media.start();
  const services = createServices({
    db: db.prisma,
    statements: db.statements,
    pubsub,
    config,
    connections: realtime.connections,
    typingRegistry: realtime.typingRegistry,
    activityRegistry: realtime.activityRegistry,
    voiceRegistry: realtime.voiceRegistry,
    media,
    redis: realtime.redis,
    onError: (err, what = 'presence heartbeat failed') => log.warn({ err }, what),
  });
  await services.lobby.ensure();
  services.presence.start();
  services.activity.start();
  services.voice.start();
  await services.auth.start();
  const housekeeping = startHousekeeping({ services, config, log });
  const uploads = createUploadRoutes({ attachments: services.attachments, auth: services.auth, log });
  const web = createWebClientRoutes({ distDir: WEB_DIST_DIR, log });

  const newContext = (actor: Actor, clientAddress?: string | null) =>
    createContext({ services, prisma: db.prisma, pubsub, config }, actor, clientAddress);
  const metrics = createMetrics({ config, log });
  const cors = createCorsPolicy(config);
  const graphql = await createGraphQLHandler({ config, log, services, pubsub, newContext, metrics, uploads });
  const { yoga } = graphql;

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
        .then((handled) => (handled || graphql.handleDirect(req, res) ? undefined : yoga.requestListener(req, res)))
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
    parseAndValidate: graphql.parseAndValidate,
    maskError: graphql.maskError,
    log,
    pubsub,
    maxMessageBytes: config.WS_MAX_MESSAGE_BYTES,
    maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
    maxSubscriptionsPerSocket: config.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    maxSubscriptionsPerUser: config.WS_MAX_SUBSCRIPTIONS_PER_USER,
    maxConnectionsPerUser: config.WS_MAX_CONNECTIONS_PER_USER,
    connectionAttemptsPerMinute: config.WS_CONNECTIONS_PER_MINUTE_PER_ADDRESS,
    heartbeatMs: config.WS_HEARTBEAT_MS,
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
    mediaReady: () => media.ready(),
    async start(port = config.PORT, host = config.HOST) {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, resolve);
      });
      const bound = (httpServer.address() as AddressInfo).port;
      url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`;
      metricsUrl = await metrics.start();
      media.startEmbeddedInBackground();
      return bound;
    },
    /** Graceful: sockets are closed with 1001 (going away) so clients reconnect elsewhere,
     *  this instance's users are marked offline, then the backends are released. Every step
     *  runs even when an earlier one failed; the failures are logged, then reported together. */
    async stop() {
      housekeeping.stop();
      // no new connections; requests in flight finish (up to SHUTDOWN_TIMEOUT_MS), idle
      // keep-alive connections go now, subscriptions end so their clients reconnect elsewhere
      const draining = drainHttp(httpServer, config.SHUTDOWN_TIMEOUT_MS, log);
      await runShutdown(log, [
        { name: 'websocket', run: () => websocket.close() },
        { name: 'sse streams', run: () => graphql.close() },
        { name: 'http', run: () => draining },
        { name: 'metrics', run: () => metrics.stop(), critical: false },
        // users this instance held still go offline when their presence entries expire
        { name: 'presence', run: () => services.presence.stop(), critical: false },
        { name: 'channel activity', run: () => services.activity.stop(), critical: false },
        { name: 'voice', run: () => services.voice.stop(), critical: false },
        { name: 'media', run: () => media.stop(), critical: false },
        { name: 'realtime', run: () => realtime.close() },
        { name: 'database', run: () => db.close() },
      ]);
    },
  };
}

const headerValue = (value: string | string[] | undefined): string | null =>
  Array.isArray(value) ? value.join(',') : (value ?? null);

