// PubSub across instances: graphql-redis-subscriptions over two ioredis connections (a
// connection in subscriber mode cannot publish), both reconnecting with backoff.
//
// While Redis is away, commands fail at once instead of queueing (a request must not hang on
// it, and a queue replayed on reconnect would burst into the rate limits); subscriptions come
// back by themselves, and onResume tells listeners that what was published meanwhile was
// missed, so durable streams (messages) catch up from the database.
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { type PubSub, topicChannel } from './topics.js';

export function redisOptions(role: string, keyPrefix = ''): RedisOptions {
  return {
    // ioredis prefixes the keys of every command (a script's KEYS too), not PubSub channels
    keyPrefix,
    enableOfflineQueue: false,
    // commands issued in one tick (a send's publishes, the rate-limit checks of concurrent
    // requests) leave in one socket write; a subscriber connection only (un)subscribes
    enableAutoPipelining: role !== 'subscriber',
    maxRetriesPerRequest: 1,
    // a command on a half-open connection answers within this, or fails
    commandTimeout: 1_500,
    connectTimeout: 2_000,
    // exponential backoff capped at 1 s; ioredis resubscribes on reconnect by itself
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    connectionName: `chat-${role}`,
  };
}

/** An ioredis connection that reconnects with backoff and logs its trouble; resolves once it
 *  is ready (with the offline queue off, nothing may be sent before). */
export async function connectRedis(url: string, log: Logger, role: string, keyPrefix = ''): Promise<Redis> {
  const client = new Redis(url, redisOptions(role, keyPrefix));
  client.on('error', (err: Error) => log.warn({ err: err.message, role }, 'redis connection error'));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.disconnect();
      reject(new Error(`Redis (${role}) did not become ready within 10 s`));
    }, 10_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}

type Handler = (payload: unknown) => void;

interface ChannelSubscription {
  handlers: Set<Handler>;
  /** resolves to the library's subscription id once Redis acknowledged SUBSCRIBE */
  ready: Promise<number>;
}

/** `publisher`: a connection of the caller's to publish on (any connection not in subscriber
 *  mode can), so that a publish and the commands around it leave in one write.
 *  `channelPrefix` starts every channel name: deployments sharing one Redis never hear each other. */
export async function createRedisPubSub(url: string, log: Logger, channelPrefix: string, publisher?: Redis): Promise<PubSub> {
  const channelOf = (topic: Parameters<PubSub['publish']>[0], key: string) => channelPrefix + topicChannel(topic, key);
  const [ownPublisher, subscriber] = await Promise.all([
    publisher ?? connectRedis(url, log, 'publisher'),
    connectRedis(url, log, 'subscriber'),
  ]);
  // After a lost connection, the subscriptions are back once Redis answers a PING sent behind
  // the resubscribing commands: only then is a catch-up sure to overlap live delivery.
  const resumeHandlers = new Set<() => void>();
  let lost = false;
  subscriber.on('close', () => {
    lost = true;
  });
  subscriber.on('ready', () => {
    if (!lost) return;
    lost = false;
    subscriber
      .ping()
      .then(() => {
        log.info('redis subscriptions resumed');
        for (const handler of [...resumeHandlers]) handler();
      })
      .catch((err: Error) => log.warn({ err: err.message }, 'redis resume check failed'));
  });
  // graphql-redis-subscriptions fires UNSUBSCRIBE without awaiting it; during shutdown the
  // connection may already be closing, which must not surface as an unhandled rejection.
  for (const method of ['unsubscribe', 'punsubscribe'] as const) {
    const original = subscriber[method].bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
    (subscriber as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const pending = original(...args);
      pending.catch(() => {});
      return pending;
    };
  }
  const inner = new RedisPubSub({ publisher: ownPublisher, subscriber });
  // One Redis subscription per channel on this instance, fanned out here: the library's own
  // fan-out breaks when a handler unsubscribes a sibling while an event is being delivered.
  const channels = new Map<string, ChannelSubscription>();
  let closed = false;

  return {
    async publish(topic, key, payload) {
      await inner.publish(channelOf(topic, key), payload);
    },
    async listen(topic, key, handler) {
      const channel = channelOf(topic, key);
      let sub = channels.get(channel);
      if (!sub) {
        const handlers = new Set<Handler>();
        const ready = inner.subscribe(channel, (payload: unknown) => {
          for (const h of [...handlers]) if (handlers.has(h)) h(payload);
        });
        sub = { handlers, ready };
        channels.set(channel, sub);
        ready.catch(() => channels.delete(channel));
      }
      const entry = handler as Handler;
      sub.handlers.add(entry);
      try {
        await sub.ready;
      } catch (err) {
        sub.handlers.delete(entry);
        throw err;
      }
      const current = sub;
      return async () => {
        if (!current.handlers.delete(entry) || current.handlers.size > 0 || closed) return;
        if (channels.get(channel) === current) channels.delete(channel);
        inner.unsubscribe(await current.ready);
      };
    },
    onResume(handler) {
      resumeHandlers.add(handler);
      return () => resumeHandlers.delete(handler);
    },
    async listenerCount(topic, key) {
      return channels.get(channelOf(topic, key))?.handlers.size ?? 0;
    },
    async close() {
      closed = true;
      channels.clear();
      await inner.close().catch(() => {});
    },
  };
}
