// How long a client may take to send its request, so that slow senders (slowloris: headers a
// byte at a time; or a body trickled as slowly) cannot hold connections open:
// - the header block within HTTP_HEADERS_TIMEOUT_MS (node's headersTimeout);
// - the body within HTTP_BODY_TIMEOUT_MS of the headers (this module), except a signed-in
//   upload (multipart with an Authorization header), which may take up to
//   HTTP_REQUEST_TIMEOUT_MS in all (node's requestTimeout) for large files on slow links;
// - an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS.
// Node checks its two timeouts every `connectionsCheckingInterval` (30 s by default, which
// would let a slowloris connection live 40 s): here every second at most.
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import type { Config } from '../config.js';

type TimeoutConfig = Pick<Config, 'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_BODY_TIMEOUT_MS' | 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_KEEP_ALIVE_TIMEOUT_MS'>;

export function httpServerOptions(config: TimeoutConfig): ServerOptions {
  return {
    headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 4))),
  };
}

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

const isSignedInUpload = (req: IncomingMessage) =>
  /^multipart\/form-data/i.test(req.headers['content-type'] ?? '') && typeof req.headers.authorization === 'string';

/** Ends a request whose body has not fully arrived within HTTP_BODY_TIMEOUT_MS: 408, then the
 *  connection is closed. Call first thing in the request listener. */
export function enforceBodyDeadline(req: IncomingMessage, res: ServerResponse, config: TimeoutConfig): void {
  if (!hasBody(req) || req.complete || isSignedInUpload(req)) return;
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    res.once('finish', () => req.socket.destroy());
    res.writeHead(408, { 'content-type': 'application/json; charset=utf-8', connection: 'close', 'cache-control': 'no-store' });
    res.end(
      JSON.stringify({ errors: [{ message: 'The request body did not arrive in time.', extensions: { code: 'BAD_REQUEST' } }] }),
    );
  }, config.HTTP_BODY_TIMEOUT_MS);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once('end', clear);
  req.once('close', clear);
  res.once('close', clear);
}
