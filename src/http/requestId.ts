// One id per HTTP request, on every log line written while it is handled and in the response's
// X-Request-Id header: the proxy's X-Request-Id when it sent a sane one (so its access log and
// ours line up), a fresh UUID otherwise. WebSocket messages are not HTTP requests: their log
// lines carry no request id.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const storage = new AsyncLocalStorage<string>();
const SANE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The id of the request being handled, if any. */
export const currentRequestId = (): string | undefined => storage.getStore();

/**
 * `fn`, to run later in the current request's scope: the request body's events come from the
 * socket's context, not the request's. (AsyncResource.bind would do it too, at the price of a
 * new async resource and two deprecation wrappers per call.)
 */
export function inRequestScope<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  const id = storage.getStore();
  return id === undefined ? fn : (...args: A) => storage.run(id, fn, ...args);
}

/** Runs `handle` with the request's id in scope, and answers the id in X-Request-Id. */
export function withRequestId(req: IncomingMessage, res: ServerResponse, handle: () => void): void {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  storage.run(id, handle);
}
