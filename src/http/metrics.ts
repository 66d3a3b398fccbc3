// Prometheus metrics whose size does not depend on what clients send, served to the operator
// only: route templates instead of URLs, operation names from a capped set (then "other"),
// error codes from the contract's list, and the exposition behind a bearer token and/or on
// a listen address of its own. A scrape that fails answers 503, never a stack trace.
import { timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createCounter,
  createHistogram,
  usePrometheus,
} from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const OPERATION_TYPES = new Set(['query', 'mutation', 'subscription']);
const PHASES = new Set(['parse', 'validate', 'context', 'execute', 'subscribe']);
/** extensions.code values worth a series of their own; anything else counts as "other" */
const ERROR_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'CONFLICT',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'SERVICE_UNAVAILABLE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'INTERNAL_SERVER_ERROR',
]);

/** The route template of a request path: a handful of values, whatever the URL holds. */
export function routeOf(url: string | undefined): string {
  const pathname = (url ?? '/').split('?')[0]!;
  if (pathname === '/graphql' || pathname === '/graphql/') return '/graphql';
  if (pathname === '/uploads') return '/uploads';
  if (pathname.startsWith('/static/')) return '/static/:file';
  if (pathname === '/health/live' || pathname === '/health/ready') return pathname;
  if (pathname === '/metrics') return '/metrics';
  if (pathname.startsWith('/assets/')) return '/assets/:file';
  return '/*';
}

const methodLabel = (method: string | undefined) => (method && METHODS.has(method) ? method : 'other');

/** At most `max` distinct operation names, first come first kept; beyond that, "other". A name
 *  joins the set only once an operation of that name got past validation (execute/subscribe),
 *  so documents that do not even parse or validate cannot take the places. */
export class OperationNames {
  private readonly known = new Set<string>();
  constructor(private readonly max: number) {}

  label(name: unknown, admit: boolean): string {
    if (name === undefined || name === null || name === '' || name === 'Anonymous') return 'Anonymous';
    if (typeof name !== 'string' || !OPERATION_NAME.test(name)) return 'other';
    if (this.known.has(name)) return name;
    if (admit && this.known.size < this.max) {
      this.known.add(name);
      return name;
    }
    return 'other';
  }
}

export interface Metrics {
  readonly registry: Registry;
  /** the GraphQL metrics (yoga + envelop phases), with bounded labels */
  readonly yogaPlugin: Plugin;
  /** times a GraphQL request that src/http/graphql.ts answered without yoga's HTTP layer */
  observeGraphQLHttp(operation: { operationName?: string; operationType?: string }, method: string, status: number, seconds: number): void;
  /** counts one HTTP request by route template; call first thing in the request listener */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** answers GET /metrics on the main listener when it is served there; false otherwise */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** opens METRICS_HOST:METRICS_PORT when configured; resolves to its URL (or undefined) */
  start(): Promise<string | undefined>;
  stop(): Promise<void>;
}

export interface MetricsOptions {
  config: Pick<Config, 'NODE_ENV' | 'METRICS_TOKEN' | 'METRICS_HOST' | 'METRICS_PORT' | 'METRICS_MAX_OPERATION_NAMES'>;
  log: Logger;
  /** for tests: a registry of the caller's */
  registry?: Registry;
}

export function createMetrics({ config, log, registry = new Registry() }: MetricsOptions): Metrics {
  collectDefaultMetrics({ register: registry });
  const names = new OperationNames(config.METRICS_MAX_OPERATION_NAMES);

  type Params = { operationName?: unknown; operationType?: unknown; errorPhase?: unknown; error?: unknown };
  const operationType = (p: Params) => (typeof p.operationType === 'string' && OPERATION_TYPES.has(p.operationType) ? p.operationType : 'unknown');
  const labelsAt = (admit: boolean) => (p: Params) => ({ operationType: operationType(p), operationName: names.label(p.operationName, admit) });
  const opLabels = ['operationType', 'operationName'] as const;
  const histogram = (name: string, help: string, admit: boolean) =>
    createHistogram({ registry, histogram: { name, help, labelNames: opLabels }, fillLabelsFn: labelsAt(admit) });

  const errorLabels = (p: Params) => {
    const code = (p.error as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
    return {
      ...labelsAt(p.errorPhase === 'execute' || p.errorPhase === 'subscribe')(p),
      phase: typeof p.errorPhase === 'string' && PHASES.has(p.errorPhase) ? p.errorPhase : 'other',
      code: typeof code === 'string' ? (ERROR_CODES.has(code) ? code : 'other') : 'none',
    };
  };

  const graphqlHttp = createHistogram({
    registry,
    histogram: {
      name: 'graphql_yoga_http_duration',
      help: 'Time spent on HTTP connection',
      labelNames: ['operationName', 'operationType', 'method', 'statusCode', 'url'],
    },
    fillLabelsFn: (p, { request, response }) => ({
      ...labelsAt(false)(p as Params),
      method: methodLabel(request.method),
      statusCode: response.status,
      url: routeOf(new URL(request.url).pathname),
    }),
  });

  const yogaPlugin = usePrometheus({
    registry,
    endpoint: false,
    metrics: {
      // parse and validate are answered from yoga's document cache, and the context is a few
      // object allocations: timing them cost more than they ever showed
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: histogram('graphql_envelop_phase_execute', 'Time spent on running the GraphQL "execute" function', true),
      graphql_envelop_phase_subscribe: histogram('graphql_envelop_phase_subscribe', 'Time spent on running the GraphQL "subscribe" function', true),
      graphql_envelop_request_duration: histogram(
        'graphql_envelop_request_duration',
        'Time spent on running the GraphQL operation from parse to execute',
        true,
      ),
      // a summary keeps a t-digest per label set, updated on every request: the duration
      // histogram answers the same quantiles at the scraper
      graphql_envelop_request_time_summary: false,
      graphql_envelop_request: createCounter({
        registry,
        counter: { name: 'graphql_envelop_request', help: 'Counts the amount of GraphQL requests executed through Envelop', labelNames: opLabels },
        fillLabelsFn: labelsAt(true),
      }),
      // no `path` label: response paths hold client-chosen aliases and list indices
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: 'graphql_envelop_error_result',
          help: 'Counts the amount of errors reported from all phases',
          labelNames: ['operationType', 'operationName', 'phase', 'code'],
        },
        fillLabelsFn: errorLabels,
      }),
      // walks every request's document; the schema deprecates nothing
      graphql_envelop_deprecated_field: false,
      graphql_envelop_execute_resolver: false,
      graphql_envelop_schema_change: true,
      graphql_yoga_http_duration: graphqlHttp,
    },
  } as Parameters<typeof usePrometheus>[0]);

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route template, method and status, from the first byte read to the last written',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  function track(req: IncomingMessage, res: ServerResponse) {
    const end = httpDuration.startTimer();
    res.once('close', () => end({ route: routeOf(req.url), method: methodLabel(req.method), status: String(res.statusCode) }));
  }

  const token = config.METRICS_TOKEN ? Buffer.from(config.METRICS_TOKEN) : undefined;
  const ownListener = config.METRICS_PORT !== undefined;
  // On the public port without a token only where nothing is public anyway.
  const servedOnMain = !ownListener && (token !== undefined || config.NODE_ENV !== 'production');
  if (!ownListener && !token && config.NODE_ENV === 'production') {
    log.warn('/metrics is off: set METRICS_TOKEN (bearer token) or METRICS_PORT (a listen address of its own) to serve it');
  }

  function authorized(req: IncomingMessage): boolean {
    if (!token) return true;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const given = match ? Buffer.from(match[1]!) : Buffer.alloc(0);
    return given.length === token.length && timingSafeEqual(given, token);
  }

  async function scrape(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Use GET.\n');
      return;
    }
    if (!authorized(req)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('A bearer token is required.\n');
      return;
    }
    let body: string;
    try {
      body = await registry.metrics();
    } catch (err) {
      log.error({ err }, 'metrics scrape failed');
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '10' });
      res.end('Metrics are unavailable right now.\n');
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const isMetricsPath = (req: IncomingMessage) => (req.url ?? '').split('?')[0] === '/metrics';

  let server: Server | undefined;
  return {
    registry,
    yogaPlugin,
    observeGraphQLHttp(operation, method, status, seconds) {
      graphqlHttp.histogram.observe(
        { ...labelsAt(false)(operation), method: methodLabel(method), statusCode: status, url: '/graphql' },
        seconds,
      );
    },
    track,
    async handle(req, res) {
      if (!isMetricsPath(req)) return false;
      if (!servedOnMain) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Not found.\n');
        return true;
      }
      await scrape(req, res);
      return true;
    },
    async start() {
      if (!ownListener) return undefined;
      server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
        if (!isMetricsPath(req)) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('Not found.\n');
          return;
        }
        scrape(req, res).catch((err) => {
          log.error({ err }, 'metrics request failed');
          if (!res.headersSent) res.writeHead(503);
          res.end();
        });
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(config.METRICS_PORT, config.METRICS_HOST, resolve);
      });
      const { port } = listening.address() as AddressInfo;
      const host = config.METRICS_HOST === '0.0.0.0' ? '127.0.0.1' : config.METRICS_HOST.includes(':') ? `[${config.METRICS_HOST}]` : config.METRICS_HOST;
      return `http://${host}:${port}`;
    },
    async stop() {
      const closing = server;
      server = undefined;
      if (!closing) return;
      await new Promise<void>((resolve) => {
        closing.close(() => resolve());
        closing.closeAllConnections();
      });
    },
  };
}
