// The one place where failures become the contract's GraphQL errors.
import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { DomainError, type ErrorCode } from '../services/errors.js';
import { RETRY_AFTER_MS, isDependencyFailure } from './dependencyFailures.js';

/** The HTTP status each refusal answers with where a transport speaks HTTP statuses (the
 *  upload route; GraphQL over HTTP answers 200 with the code in the body). */
export const HTTP_STATUS: Record<ErrorCode | 'SERVICE_UNAVAILABLE', number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  TWO_FACTOR_REQUIRED: 401,
  SERVICE_UNAVAILABLE: 503,
};

const KEPT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
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

/** Extensions a client may never see: a cause, a stack, a parser's words. yoga itself adds
 *  `originalError` to some of its own errors (a body that is not JSON), in every mode. */
const INTERNAL_EXTENSIONS = ['originalError', 'stack', 'exception', 'unexpected', 'cause'];

/** graphql-js' "Did you mean …?" hints name the schema's fields, types and enum values. */
const withoutSuggestions = (message: string) => message.replace(/\s*Did you mean [^?]*\?/g, '');

export interface ErrorMaskerOptions {
  /** drop "Did you mean …?" hints (production: they disclose the schema) */
  hideSuggestions?: boolean;
}

/** yoga's maskError: domain errors keep their code; anything unexpected is logged and masked. */
export function createErrorMasker(log: Logger, { hideSuggestions = false }: ErrorMaskerOptions = {}) {
  /** Cleans a client-facing error in place: yoga logs every error its masker replaces by
   *  another (request-level ones carry the client's body in their cause), so the object stays. */
  const sanitize = (err: GraphQLError, code?: string): GraphQLError => {
    const extensions = err.extensions as Record<string, unknown>;
    for (const key of INTERNAL_EXTENSIONS) if (key in extensions) delete extensions[key];
    if (code !== undefined && extensions.code !== code) extensions.code = code;
    const http = extensions.http as { status?: unknown; spec?: unknown } | undefined;
    // yoga's own refusal of an over-large request (a batch past its cap) in the contract's words
    if (http?.status === 413 && extensions.code === 'BAD_REQUEST') extensions.code = 'PAYLOAD_TOO_LARGE';
    // A body that is not a GraphQL request at all is a 400, whatever the Accept header (yoga
    // would answer 200 to application/json once the cause is gone from the extensions).
    if (http?.spec && extensions.code === 'BAD_REQUEST') delete http.spec;
    if (hideSuggestions) {
      const message = withoutSuggestions(err.message);
      if (message !== err.message) err.message = message;
    }
    return err;
  };
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
    if (typeof code === 'string' && KEPT_CODES.has(code)) return sanitize(graphQLError!);
    const cause = graphQLError?.originalError;
    if (graphQLError && !graphQLError.path && (!cause || cause instanceof GraphQLError)) {
      // No path and no foreign cause: the request failed before execution (syntax,
      // validation, variable coercion). That is the client's mistake, about their document;
      // a crash while building the context has a foreign cause and stays masked.
      return sanitize(graphQLError, typeof code === 'string' ? code : 'BAD_USER_INPUT');
    }
    if (isDependencyFailure(error)) {
      log.warn({ err: graphQLError?.originalError ?? error, path: graphQLError?.path }, 'a dependency is unavailable');
      return createGraphQLError('A service this request needs is unavailable; retry shortly.', {
        nodes: graphQLError?.nodes,
        path: graphQLError?.path,
        extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterMs: RETRY_AFTER_MS },
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
