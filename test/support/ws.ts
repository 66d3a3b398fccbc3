// Subscriptions through the real graphql-ws client.
import { type Client as WsClient, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export function wsClient(wsUrl: string, token?: string, extra: Partial<Parameters<typeof createClient>[0]> = {}): WsClient {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    ...extra,
  });
}

export interface Subscription<T> {
  /** the next event, waiting up to timeoutMs */
  next(timeoutMs?: number): Promise<T>;
  /** resolves when the server completes the subscription */
  completed: Promise<void>;
  /** errors the server sent for the operation */
  errors: Promise<readonly { message: string; extensions?: Record<string, unknown> }[]>;
  /** the next event that matches, dropping the others before it */
  nextMatching(predicate: (event: T) => boolean, timeoutMs?: number): Promise<T>;
  /** events received and not yet taken */
  pending(): T[];
  close(): void;
}

export function subscribe<T = Record<string, any>>(
  client: WsClient,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription<T> {
  const queue: T[] = [];
  const waiters: ((v: T) => void)[] = [];
  let resolveCompleted!: () => void;
  let resolveErrors!: (e: readonly { message: string; extensions?: Record<string, unknown> }[]) => void;
  const completed = new Promise<void>((r) => (resolveCompleted = r));
  const errors = new Promise<readonly { message: string; extensions?: Record<string, unknown> }[]>((r) => (resolveErrors = r));
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) resolveErrors(result.errors as never);
        if (result.data == null) return;
        const waiter = waiters.shift();
        if (waiter) waiter(result.data as T);
        else queue.push(result.data as T);
      },
      error: (err) => resolveErrors(Array.isArray(err) ? err : [{ message: String((err as Error)?.message ?? err) }]),
      complete: () => resolveCompleted(),
    },
  );
  return {
    next(timeoutMs = 5_000) {
      const ready = queue.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(done), 1);
          reject(new Error(`no event within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (v: T) => {
          clearTimeout(timer);
          resolve(v);
        };
        waiters.push(done);
      });
    },
    async nextMatching(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const event = await this.next(Math.max(1, deadline - Date.now()));
        if (predicate(event)) return event;
      }
    },
    completed,
    errors,
    pending: () => queue.splice(0),
    close: dispose,
  };
}
