// GraphiQL at GET /graphql (browsers), entirely from the installed @graphql-yoga/render-graphiql
// package: its script, styles and editor workers are inlined in the page, so nothing loads
// from a CDN and it works on a machine without internet access. (yoga's default page pulls
// GraphiQL from unpkg.) A Content-Security-Policy on the page makes the browser refuse any
// other host, should a future version try.
//
// Subscriptions go over Server-Sent Events on /graphql, with the Headers pane sent on every
// request like queries and mutations: `Authorization: Bearer <accessToken>` there makes
// `messageAdded` work in GraphiQL. (Over WebSocket, GraphiQL sends the pane's headers as HTTP
// headers of the upgrade, which browsers cannot set, and an empty connection_init payload.)
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

export const GRAPHIQL_CSP = [
  "default-src 'self'",
  // the page's one inline script (the bundle) and the editor's workers made from blobs
  "script-src 'self' 'unsafe-inline' blob:",
  "worker-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

const WELCOME = `# Chat API
#
# 1. Sign in (or register) below.
# 2. Put the access token in the Headers pane:
#    { "Authorization": "Bearer <accessToken>" }
# Queries, mutations and subscriptions (over
# Server-Sent Events) all carry those headers.
#
# mutation {
#   login(input: { login: "ada", password: "…" }) {
#     accessToken
#     refreshToken
#   }
# }
#
# subscription Live($channelId: ID!) {
#   messageAdded(channelId: $channelId) {
#     id content author { username }
#   }
# }
{
  viewer { id username }
}
`;

export const graphiqlOptions: GraphiQLOptions = {
  title: 'Chat API',
  subscriptionsProtocol: 'SSE',
  defaultQuery: WELCOME,
  shouldPersistHeaders: true,
};

/**
 * yoga's renderGraphiQL option: the self-contained page, rendered once per set of options.
 * The renderer (9 MB of JavaScript, GraphiQL inlined) loads with the first page, not at
 * start-up: parsing it cost every start about 80 ms of CPU, production ones included.
 */
export function createGraphiQLRenderer() {
  const pages = new Map<string, Promise<string>>();
  return (options: GraphiQLOptions): Promise<string> => {
    const key = JSON.stringify(options ?? {});
    let page = pages.get(key);
    if (page === undefined) {
      page = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options));
      page.catch(() => pages.delete(key)); // a failed load is retried by the next request
      pages.set(key, page);
    }
    return page;
  };
}

/** Adds the policy (and no caching of a page that changes with the server) to the GraphiQL page. */
export function graphiqlHeaders(graphqlEndpoint: string): Plugin {
  return {
    onResponse({ request, response }) {
      if (request.method !== 'GET') return;
      if (!response.headers.get('content-type')?.startsWith('text/html')) return;
      if (new URL(request.url).pathname.replace(/\/$/, '') !== graphqlEndpoint) return;
      response.headers.set('content-security-policy', GRAPHIQL_CSP);
      response.headers.set('x-content-type-options', 'nosniff');
      response.headers.set('referrer-policy', 'same-origin');
      response.headers.set('cache-control', 'no-cache');
    },
  };
}
