// The GraphQL client: urql with the normalized cache, queries and mutations over HTTP with the
// session's Bearer token, subscriptions over one graphql-ws socket.
//
// Subscriptions resume by themselves. graphql-ws' own retry would re-send each subscription
// with the variables it first had, so a `messageAdded` would come back without the messages
// sent while the socket was down. Here the socket does not retry on its own: when it closes,
// every subscription starts again (after a back-off, or at once when the browser is back
// online) with fresh variables: `messageAdded` with `since` = the newest message the cache
// holds for its channel, so the server replays exactly what was missed. A close with 4403
// (expired access token) makes the next connection refresh the token first.
import { authExchange } from '@urql/exchange-auth';
import { cacheExchange } from '@urql/exchange-graphcache';
import { Client, type Operation, fetchExchange, subscriptionExchange } from 'urql';
import { type Client as WsClient, createClient as createWsClient } from 'graphql-ws';
import { cacheConfig, newestMessageCursor } from './cache';
import type { Session } from './session';


export interface ConnectionState {
  /** the socket is up (or no subscription needs it) */
  online: boolean;
}

export interface ChatClient {
  client: Client;
  ws: WsClient;
  /** socket state for the "reconnecting…" banner */
  subscribeConnection(listener: (state: ConnectionState) => void): () => void;
  dispose(): void;
}

const BACKOFF_MS = [250, 1000, 2000, 4000, 8000];

function wsUrl(): string {
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** The operation's root field when it is `messageAdded`, with its channel id. */
function messageAddedChannel(operation: Operation): string | null {
  for (const definition of operation.query.definitions) {
    if (definition.kind !== 'OperationDefinition') continue;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind === 'Field' && selection.name.value === 'messageAdded') {
        const channelId = (operation.variables as Record<string, unknown>).channelId;
        return typeof channelId === 'string' ? channelId : null;
      }
    }
  }
  return null;
}

function hasBearer(operation: Operation): boolean {
  const options = operation.context.fetchOptions;
  const headers = (typeof options === 'function' ? options() : options)?.headers as Record<string, string> | undefined;
  return Boolean(headers?.Authorization ?? headers?.authorization);
}

export function createChatClient(session: Session): ChatClient {
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let connectionState: ConnectionState = { online: true };
  const setConnection = (state: ConnectionState) => {
    if (state.online === connectionState.online) return;
    connectionState = state;
    for (const listener of connectionListeners) listener(state);
  };
  // the access token the current socket was opened with
  let socketToken: string | null = null;
  // every live subscription's restart function, for the browser's `online` event
  const restarts = new Set<() => void>();
  let pongTimer: ReturnType<typeof setTimeout> | undefined;

  const ws = createWsClient({
    url: wsUrl(),
    lazy: true,
    lazyCloseTimeout: 1_000,
    retryAttempts: 0,
    keepAlive: 10_000,
    connectionParams: async () => {
      socketToken = await session.accessToken();
      return socketToken ? { authorization: `Bearer ${socketToken}` } : {};
    },
    on: {
      connected: () => setConnection({ online: true }),
      closed: (event) => {
        clearTimeout(pongTimer);
        const code = (event as { code?: number } | undefined)?.code;
        if (code === 4403 || code === 4401) session.markRejected(socketToken);
        if (restarts.size > 0) setConnection({ online: false });
      },
      // A socket that no longer answers pings is dead even if the browser has not noticed.
      ping: (received) => {
        if (received) return;
        clearTimeout(pongTimer);
        pongTimer = setTimeout(() => ws.terminate(), 5_000);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });

  const onOnline = () => {
    for (const restart of [...restarts]) restart();
  };
  window.addEventListener('online', onOnline);

  let client: Client;
  const resumeVariables = (operation: Operation): Record<string, unknown> => {
    const variables = { ...(operation.variables as Record<string, unknown>) };
    const channelId = messageAddedChannel(operation);
    if (channelId) {
      const newest = newestMessageCursor(client, channelId);
      if (newest) variables.since = newest;
    }
    return variables;
  };

  client = new Client({
    url: '/graphql',
    requestPolicy: 'cache-and-network',
    exchanges: [
      cacheExchange(cacheConfig),
      authExchange(async (utils) => ({
        addAuthToOperation(operation) {
          const token = session.current?.accessToken;
          return token ? utils.appendHeaders(operation, { Authorization: `Bearer ${token}` }) : operation;
        },
        willAuthError: () => session.shouldRefresh(),
        // Only a request that carried a token can fail because of it (a wrong password
        // at sign-in is UNAUTHENTICATED too, and is sent without one).
        didAuthError: (error, operation) =>
          hasBearer(operation) && error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED'),
        async refreshAuth() {
          await session.refresh().catch(() => undefined);
        },
      })),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request, operation) {
          return {
            subscribe(sink) {
              let stopped = false;
              let attempt = 0;
              let timer: ReturnType<typeof setTimeout> | undefined;
              let unsubscribe = () => {};
              // back online: a subscription waiting out its back-off starts now
              const restart = () => {
                if (timer === undefined) return;
                clearTimeout(timer);
                timer = undefined;
                start();
              };
              const start = () => {
                if (stopped) return;
                const vars = resumeVariables(operation);
                unsubscribe = ws.subscribe(
                  { query: request.query ?? '', operationName: request.operationName, variables: vars },
                  {
                    next: (value) => {
                      attempt = 0;
                      sink.next(value as never);
                    },
                    error: (error) => {
                      if (stopped) return;
                      // GraphQL errors (a refusal) end the subscription; a lost socket does not.
                      if (Array.isArray(error)) {
                        sink.error(error as never);
                        return;
                      }
                      const delay = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]! * (0.75 + Math.random() / 2);
                      timer = setTimeout(() => {
                        timer = undefined;
                        start();
                      }, delay);
                    },
                    complete: () => {
                      if (!stopped) {
                        restarts.delete(restart);
                        sink.complete();
                      }
                    },
                  },
                );
              };
              restarts.add(restart);
              start();
              return {
                unsubscribe() {
                  stopped = true;
                  restarts.delete(restart);
                  clearTimeout(timer);
                  unsubscribe();
                },
              };
            },
          };
        },
      }),
    ],
  });

  return {
    client,
    ws,
    subscribeConnection(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
    dispose() {
      window.removeEventListener('online', onOnline);
      clearTimeout(pongTimer);
      void ws.dispose();
    },
  };
}
