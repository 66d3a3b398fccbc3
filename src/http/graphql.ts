// GraphQL over HTTP (and SSE): the yoga handler with its plugins, in the order they must run,
// and the parse-and-validate the WebSocket transport shares with it (same limits, same cache).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { type DocumentNode, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import { createYoga, isAsyncIterable, processRegularResult } from 'graphql-yoga';
import type { Config } from '../config.js';
import { type GraphQLContext, clientAddressOf } from '../context.js';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub/topics.js';
import { schema } from '../schema/index.js';
import type { Actor } from '../services/actor.js';
import type { Services } from '../services/index.js';
import { createErrorMasker } from './errors.js';
import { createGraphiQLRenderer, graphiqlHeaders, graphiqlOptions } from './graphiql.js';
import type { createMetrics } from './metrics.js';
import { persistedQueries } from './persistedQueries.js';
import { csrfPrevention, disableIntrospection, unreadableRequestsAreBadRequests } from './requestGuards.js';
import { inRequestScope } from './requestId.js';
import { sessionBoundStreams } from './sessionBoundStreams.js';
import type { createUploadRoutes } from './uploads.js';

export interface GraphQLHandlerDeps {
  config: Config;
  log: Logger;
  services: Services;
  pubsub: PubSub;
  newContext: (actor: Actor, clientAddress?: string | null) => GraphQLContext;
  metrics: ReturnType<typeof createMetrics>;
  uploads: ReturnType<typeof createUploadRoutes>;
}

export async function createGraphQLHandler({ config, log, services, pubsub, newContext, metrics, uploads }: GraphQLHandlerDeps) {
  const errorMasker = createErrorMasker(log, { hideSuggestions: config.NODE_ENV === 'production' });
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


  const direct = directPost(yoga, metrics, uploads.nonUploadBodyBytes);

  return {
    yoga,
    /** answers a plain JSON POST of one query or mutation without yoga's HTTP layer; false
     *  when the request is another kind (yoga answers it) */
    handleDirect: direct,
    maskError: errorMasker,
    /** parse and validate with yoga's plugins (armor's limits) and its document cache */
    parseAndValidate(query: string): DocumentNode | readonly GraphQLError[] {
      const enveloped = yoga.getEnveloped({ params: { query } });
      let document: DocumentNode;
      try {
        document = enveloped.parse(query);
      } catch (err) {
        return [err instanceof GraphQLError ? err : new GraphQLError('Syntax error')];
      }
      const errors = enveloped.validate(enveloped.schema, document);
      return errors.length ? errors : document;
    },
    /** ends the SSE streams (shutting down) */
    close: () => sseSessions.close(),
  };
}

type Yoga = Awaited<ReturnType<typeof createGraphQLHandler>>['yoga'];

/** Accept headers under which yoga answers a single result as application/json. */
const ANSWERED_AS_JSON = /(^|,)\s*(\*\/\*|application\/\*|application\/json)\s*(;|,|$)/i;
const JSON_BODY = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;

/**
 * The commonest GraphQL request, a JSON POST of one query or mutation answered as JSON,
 * without yoga's HTTP layer. Measured on this machine, yoga's request pipeline (its fetch
 * Request/Response objects, body streams and per-request HTTP plugins) cost ~0.6 ms of CPU
 * per request against ~0.03 ms for reading the body and writing the answer here; everything
 * GraphQL stays yoga's and envelop's: the same enveloped parse and validate (and their
 * cache), armor's limits, the context, execute, error masking and metrics. Anything else
 * (another content type or Accept, a batch, persisted queries, a subscription, a document
 * that does not parse or validate, a body that is not JSON) goes to yoga with the body
 * already read, and is answered exactly as before.
 */
function directPost(yoga: Yoga, metrics: ReturnType<typeof createMetrics>, maxBodyBytes: number) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST' || req.url !== yoga.graphqlEndpoint) return false;
    if (!JSON_BODY.test(req.headers['content-type'] ?? '')) return false;
    const accept = req.headers.accept;
    if (accept !== undefined && !ANSWERED_AS_JSON.test(accept)) return false;
    const length = Number(req.headers['content-length']);
    if (!Number.isInteger(length) || length <= 0 || length > maxBodyBytes) return false;
    const started = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    // bound: the answer runs in this request's async context (its request id on log lines)
    req.on('end', inRequestScope(() => {
      const body = Buffer.concat(chunks).toString('utf8');
      answer(req, res, body, started).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
        yoga.logger.error(err);
      });
    }));
    return true;
  };

  async function answer(req: IncomingMessage, res: ServerResponse, body: string, started: number) {
    const params = plainParams(body);
    const request = params && new yoga.fetchAPI.Request(`http://localhost${yoga.graphqlEndpoint}`, { method: 'POST', headers: headersOf(req) });
    const enveloped = params && request && yoga.getEnveloped({ request, params, req, res });
    let document: DocumentNode | undefined;
    try {
      document = enveloped ? enveloped.parse(params.query) : undefined;
    } catch {
      document = undefined;
    }
    const operation = document && getOperationAST(document, params!.operationName);
    if (!enveloped || !document || !operation || operation.operation === 'subscription' || enveloped.validate(enveloped.schema, document).length) {
      return viaYoga(req, res, body);
    }
    const contextValue = await enveloped.contextFactory();
    const result = (await enveloped.execute({
      schema: enveloped.schema,
      document,
      contextValue,
      variableValues: params!.variables,
      operationName: params!.operationName,
    })) as ExecutionResult;
    let status = 200;
    let headers: Record<string, string>;
    let text: string;
    if (!isAsyncIterable(result) && !result.errors?.length && !result.extensions) {
      headers = { 'content-type': 'application/json; charset=utf-8' };
      text = JSON.stringify(result);
    } else {
      // errors (or a stream) are shaped exactly as yoga shapes them: its own result processor
      const response = await processRegularResult(result, yoga.fetchAPI, 'application/json');
      status = response.status;
      headers = Object.fromEntries(response.headers.entries());
      text = await response.text();
    }
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(status, headers).end(text);
    metrics.observeGraphQLHttp(
      { operationName: operation.name?.value ?? params!.operationName ?? undefined, operationType: operation.operation },
      'POST',
      status,
      (performance.now() - started) / 1000,
    );
  }

  /** The request as yoga would have answered it, for every case the direct path leaves; an
   *  event stream (a subscription over SSE) streams, and ends when the client goes. */
  async function viaYoga(req: IncomingMessage, res: ServerResponse, body: string) {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const response = await yoga.fetch(`http://localhost${req.url}`, { method: 'POST', headers: headersOf(req), body, signal: gone.signal }, { req, res } as never);
    res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
    if (!response.body) return void res.end();
    const reader = response.body.getReader();
    gone.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    }
    res.end();
  }
}

interface PlainParams {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** The body as the params of one operation without extensions, or null (yoga judges it). */
function plainParams(body: string): PlainParams | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const { query, variables, operationName, extensions, ...rest } = value as Record<string, unknown>;
  if (typeof query !== 'string' || extensions !== undefined || Object.keys(rest).length) return null;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  return {
    query,
    ...(variables ? { variables: variables as Record<string, unknown> } : {}),
    ...(typeof operationName === 'string' ? { operationName } : {}),
  };
}

function headersOf(req: IncomingMessage): [string, string][] {
  const pairs: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}
