// Guards on the GraphQL endpoint that do not depend on who asks:
// - CSRF: a POST in one of the shapes a page of any site can send without a CORS preflight
//   (application/x-www-form-urlencoded, text/plain, multipart/form-data, or no content type)
//   is refused unless a header that forces a preflight came with it (Authorization, or one of
//   the usual CSRF headers). JSON bodies always force a preflight. GET runs queries only (yoga
//   refuses mutations over GET), and no cookie gives a cross-site GET anyone's rights.
// - Introspection (`__schema`, `__type`) off unless GRAPHQL_INTROSPECTION (on in development).
// - A body or query string that cannot be read is BAD_REQUEST (400), never the parser's words.
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { type Plugin, createGraphQLError } from 'graphql-yoga';

/** Request headers a browser never sends cross-origin without a successful preflight. */
export const PREFLIGHT_HEADERS = ['authorization', 'graphql-preflight', 'x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-apollo-operation-name'];
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

const isSimpleContentType = (contentType: string | null) => {
  if (!contentType) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return SIMPLE_CONTENT_TYPES.includes(type);
};

function holdsFile(value: unknown, depth = 0): boolean {
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  // yoga's multipart parser gives File objects of its fetch ponyfill: recognized by shape
  const file = value as { arrayBuffer?: unknown; size?: unknown; type?: unknown };
  if (typeof file.arrayBuffer === 'function' && typeof file.size === 'number' && typeof file.type === 'string') return true;
  return Object.values(value as Record<string, unknown>).some((v) => holdsFile(v, depth + 1));
}

const csrfError = () =>
  createGraphQLError(
    'This request has a shape any web page can send without asking (a CORS "simple request"). ' +
      'Send the body as application/json, or add a "GraphQL-Preflight: 1" header.',
    { extensions: { code: 'FORBIDDEN', http: { status: 403 } } },
  );

export function csrfPrevention(): Plugin {
  // multipart bodies are judged once parsed: a real upload is told it needs a token
  const unpreflightedMultipart = new WeakSet<Request>();
  return {
    onRequestParse({ request }) {
      if (request.method !== 'POST') return;
      const contentType = request.headers.get('content-type');
      if (!isSimpleContentType(contentType)) return;
      if (PREFLIGHT_HEADERS.some((h) => request.headers.has(h))) return;
      if (/^multipart\/form-data/i.test(contentType ?? '')) {
        unpreflightedMultipart.add(request);
        return;
      }
      throw csrfError();
    },
    onParams({ request, params }) {
      if (!unpreflightedMultipart.has(request)) return;
      // No Authorization header: an anonymous upload, which no operation accepts anyway.
      if (holdsFile(params.variables)) {
        throw createGraphQLError('Uploading files requires a signed-in user: send "Authorization: Bearer <accessToken>".', {
          extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } },
        });
      }
      throw csrfError();
    },
  };
}

export function disableIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/** Wraps whichever request parser applies (place it after the plugins that replace it), so
 *  that a body or query string it cannot read answers 400 with a plain message. */
export function unreadableRequestsAreBadRequests(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      const parse = requestParser;
      setRequestParser(async (request) => {
        try {
          return await parse(request);
        } catch (err) {
          if (err instanceof GraphQLError) throw err;
          throw createGraphQLError('The request could not be read: its body, variables or extensions are not valid JSON.', {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
  };
}
