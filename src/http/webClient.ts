// Serves the web client's production build (web/dist, made by scripts/build-web.mjs) at /:
// hashed files under /assets/ are cached for a year, index.html never, and any other GET of
// a page path (/invite/<code>, /g/<guild>/<channel>, …) gets index.html so the client's
// router can show it. The API's own paths are never answered here.
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';

/** web/dist at the repository root, from src/http/ (tsx) as from dist/http/ (compiled). */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface WebClientRoutes {
  /** Answers the request when it is the web client's; resolves false to let the next handler. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

export interface WebClientOptions {
  /** the build output (web/dist) */
  distDir: string;
  log: Logger;
}

/** Paths that belong to the API, even when nothing there answers them. */
const API_PREFIXES = ['/graphql', '/health', '/metrics', '/static', '/uploads'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

const isApiPath = (pathname: string) =>
  API_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`) || pathname.startsWith(`${prefix}?`));

export function createWebClientRoutes({ distDir, log }: WebClientOptions): WebClientRoutes {
  const root = path.resolve(distDir);
  const indexPath = path.join(root, 'index.html');
  let warned = false;

  async function send(req: IncomingMessage, res: ServerResponse, file: string, cache: string): Promise<boolean> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch {
      return false;
    }
    if (!stat.isFile()) return false;
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      'content-type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': cache,
      etag,
      'x-content-type-options': 'nosniff',
    };
    if (file === indexPath) {
      // the app loads nothing from elsewhere: say so to the browser
      headers['content-security-policy'] =
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";
      headers['referrer-policy'] = 'same-origin';
    }
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    headers['content-length'] = stat.size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((resolve, reject) => {
      const stream = fs.createReadStream(file);
      stream.once('error', reject);
      res.once('close', resolve);
      stream.pipe(res);
    });
    return true;
  }

  return {
    async handle(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      let pathname: string;
      try {
        pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      } catch {
        return false;
      }
      if (isApiPath(pathname)) return false;
      if (!fs.existsSync(indexPath)) {
        if (!warned) {
          warned = true;
          log.warn({ distDir: root }, 'the web client is not built (node scripts/build-web.mjs): / serves nothing');
        }
        return false;
      }
      const file = path.resolve(root, `.${pathname}`);
      if (file !== root && !file.startsWith(root + path.sep)) return false;
      if (pathname.startsWith('/assets/')) {
        // content-hashed names: a changed file is a new name
        if (await send(req, res, file, 'public, max-age=31536000, immutable')) return true;
        return false;
      }
      if (pathname !== '/' && !pathname.endsWith('/') && path.extname(pathname)) {
        // favicon.svg and the like, copied from web/public without a hash
        if (await send(req, res, file, 'public, max-age=3600')) return true;
        return false;
      }
      // a page of the app: its router decides what to show
      const accept = req.headers.accept ?? '';
      if (accept && !accept.includes('text/html') && !accept.includes('*/*')) return false;
      return send(req, res, indexPath, 'no-cache');
    },
  };
}
