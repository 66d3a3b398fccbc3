// PubSub across instances: graphql-redis-subscriptions over two ioredis connections (a
// connection in subscriber mode cannot publish), both reconnecting with backoff.
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { type PubSub, topicChannel } from './topics.js';

export function redisOptions(role: string): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    // exponential backoff capped at 2 s; ioredis resubscribes on reconnect by itself
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
    connectionName: `chat-${role}`,
  };
}

/** An ioredis connection that reconnects with backoff and logs its trouble. */
export function connectRedis(url: string, log: Logger, role: string): Redis {
  const client = new Redis(url, redisOptions(role));
  client.on('error', (err: Error) => log.warn({ err: err.message, role }, 'redis connection error'));
  return client;
}

export async function createRedisPubSub(url: string, log: Logger): Promise<PubSub> {
  const publisher = connectRedis(url, log, 'publisher');
  const subscriber = connectRedis(url, log, 'subscriber');
  await Promise.all([publisher.ping(), subscriber.ping()]);
  const inner = new RedisPubSub({ publisher, subscriber });
  return {
    async publish(topic, key, payload) {
      await inner.publish(topicChannel(topic, key), payload);
    },
    async listen(topic, key, handler) {
      // resolves once Redis acknowledged SUBSCRIBE (or at once if this instance already was)
      const id = await inner.subscribe(topicChannel(topic, key), handler as (message: unknown) => void);
      return async () => {
        inner.unsubscribe(id);
      };
    },
    async listenerCount(topic, key) {
      // instances subscribed to the channel (each shares one Redis subscription per channel)
      const reply = (await publisher.pubsub('NUMSUB', topicChannel(topic, key))) as [string, number];
      return Number(reply[1] ?? 0);
    },
    async close() {
      await inner.close();
    },
  };
}
