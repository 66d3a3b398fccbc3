// The one place where failures become the contract's GraphQL errors.
import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { DomainError } from '../services/errors.js';

const KEPT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
]);

function findDomainError(error: unknown): DomainError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof DomainError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** yoga's maskError: domain errors keep their code; anything unexpected is logged and masked. */
export function createErrorMasker(log: Logger) {
  return (error: unknown, message: string): Error => {
    const domain = findDomainError(error);
    const graphQLError = error instanceof GraphQLError ? error : undefined;
    if (domain) {
      return createGraphQLError(domain.message, {
        nodes: graphQLError?.nodes,
        path: graphQLError?.path,
        extensions: { code: domain.code, ...domain.extensions },
      });
    }
    const code = graphQLError?.extensions?.code;
    if (typeof code === 'string' && KEPT_CODES.has(code)) return graphQLError as GraphQLError;
    const cause = graphQLError?.originalError;
    if (graphQLError && !graphQLError.path && (!cause || cause instanceof GraphQLError)) {
      // No path and no foreign cause: the request failed before execution (syntax,
      // validation, variable coercion). That is the client's mistake, about their document;
      // a crash while building the context has a foreign cause and stays masked.
      return createGraphQLError(graphQLError.message, {
        nodes: graphQLError.nodes,
        extensions: { ...graphQLError.extensions, code: typeof code === 'string' ? code : 'BAD_USER_INPUT' },
      });
    }
    log.error({ err: graphQLError?.originalError ?? error, path: graphQLError?.path }, 'unexpected error');
    return createGraphQLError(message, {
      nodes: graphQLError?.nodes,
      path: graphQLError?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  };
}
