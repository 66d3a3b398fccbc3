// Subscriptions over HTTP (Server-Sent Events) live as long as the session behind them: when
// its access token expires or the session ends (sign-out, a reused refresh token), the stream
// delivers one last result carrying UNAUTHENTICATED and ends, so the client refreshes and
// subscribes again. (The WebSocket transport closes its sockets with 4403 for the same reasons,
// see ./websocket.ts.)
import type { Plugin } from 'graphql-yoga';
import { createGraphQLError, isAsyncIterable } from 'graphql-yoga';
import type { GraphQLContext } from '../context.js';
import type { PubSub } from '../pubsub/topics.js';

const ENDED = 'The session behind this subscription ended; sign in again.';
const EXPIRED = 'The access token of this subscription expired; refresh and subscribe again.';

export interface SessionBoundStreams {
  plugin: Plugin<GraphQLContext>;
  /** ends every stream (shutting down: clients reconnect elsewhere) and stops listening */
  close(): Promise<void>;
}

export async function sessionBoundStreams(pubsub: PubSub): Promise<SessionBoundStreams> {
  /** why: the last result's message, or null to end the stream without one (shutdown) */
  const watchers = new Map<string, Set<(why: string | null) => void>>();
  const unlisten = await pubsub.listen('sessionEnded', 'all', ({ sessionId }) => {
    for (const stop of watchers.get(sessionId) ?? []) stop(ENDED);
  });

  async function* bound<T>(source: AsyncIterable<T>, sessionId: string, expiresAt: number): AsyncGenerator<T | { errors: unknown[] }> {
    const iterator = source[Symbol.asyncIterator]();
    let stop!: (why: string | null) => void;
    const stopped = new Promise<{ why: string | null }>((resolve) => (stop = (why) => resolve({ why })));
    const timer = setTimeout(() => stop(EXPIRED), Math.max(0, expiresAt - Date.now()));
    let sessionWatchers = watchers.get(sessionId);
    if (!sessionWatchers) watchers.set(sessionId, (sessionWatchers = new Set()));
    sessionWatchers.add(stop);
    try {
      for (;;) {
        const step = await Promise.race([iterator.next(), stopped]);
        if ('why' in step) {
          if (step.why) yield { errors: [createGraphQLError(step.why, { extensions: { code: 'UNAUTHENTICATED' } })] };
          return;
        }
        if (step.done) return;
        yield step.value;
      }
    } finally {
      clearTimeout(timer);
      sessionWatchers.delete(stop);
      if (sessionWatchers.size === 0 && watchers.get(sessionId) === sessionWatchers) watchers.delete(sessionId);
      await iterator.return?.();
    }
  }

  return {
    plugin: {
      onSubscribe() {
        return {
          onSubscribeResult({ args, result, setResult }) {
            const { actor } = args.contextValue as GraphQLContext;
            if (!actor.sessionId || !actor.expiresAt || !isAsyncIterable(result)) return;
            setResult(bound(result, actor.sessionId, actor.expiresAt) as never);
          },
        };
      },
    },
    async close() {
      await unlisten();
      for (const stops of [...watchers.values()]) for (const stop of [...stops]) stop(null);
    },
  };
}

