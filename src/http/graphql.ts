// GraphQL over HTTP (and SSE): the yoga handler with its plugins, in the order they must run,
// and the parse-and-validate the WebSocket transport shares with it (same limits, same cache).
import type { IncomingMessage } from 'node:http';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { type DocumentNode, GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
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


  return {
    yoga,
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
