// Cross-origin access for every route (GraphQL, uploads, files), from one allowlist:
// CORS_ORIGINS (comma-separated origins, or `*`); unset, any origin in development and test,
// none in production (the web client is served from the API's own origin and needs none).
// No cookies are involved anywhere (tokens travel in the Authorization header), so no
// credentials are ever allowed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';

const ALLOWED_METHODS = 'GET, HEAD, POST, OPTIONS';
/** what a cross-origin script may read besides the CORS-safelisted response headers */
const EXPOSED_HEADERS = 'retry-after, www-authenticate, x-request-id';

export interface CorsPolicy {
  /** whether `origin` may call the API from a browser */
  allows(origin: string): boolean;
  /** Adds the CORS headers a response to an allowed origin needs; answers preflights
   *  (204 for an allowed origin, 403 otherwise). True when it answered. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createCorsPolicy(config: Pick<Config, 'NODE_ENV' | 'CORS_ORIGINS'>): CorsPolicy {
  const list = config.CORS_ORIGINS;
  const any = list ? list.includes('*') : config.NODE_ENV !== 'production';
  const allowed = new Set((list ?? []).map((o) => o.toLowerCase()));
  const allows = (origin: string) => any || allowed.has(origin.toLowerCase());

  return {
    allows,
    handle(req, res) {
      const origin = req.headers.origin;
      const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (!origin) return false;
      res.setHeader('vary', 'Origin');
      if (!allows(origin)) {
        if (!preflight) return false; // the browser will not let the page read the answer
        res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ errors: [{ message: 'This origin may not call the API.', extensions: { code: 'FORBIDDEN' } }] }));
        return true;
      }
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      if (!preflight) return false;
      const requested = req.headers['access-control-request-headers'];
      res.writeHead(204, {
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': requested ?? 'authorization, content-type',
        'access-control-max-age': '86400',
        vary: 'Origin, Access-Control-Request-Headers',
        'content-length': '0',
      });
      res.end();
      return true;
    },
  };
}
