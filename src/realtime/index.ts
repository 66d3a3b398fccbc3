// Chooses the real-time backend: in-process for one instance, Redis to span several.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createMemoryPubSub } from '../pubsub/memory.js';
import type { PubSub } from '../pubsub/topics.js';
import { MemoryActivityRegistry, MemoryConnectionRegistry, MemoryTypingRegistry, MemoryVoiceRegistry } from './memory.js';
import type { ActivityRegistry, ConnectionRegistry, TypingRegistry, VoiceRegistry } from './registries.js';

export interface RealtimeBackend {
  kind: 'memory' | 'redis';
  pubsub: PubSub;
  connections: ConnectionRegistry;
  typingRegistry: TypingRegistry;
  activityRegistry: ActivityRegistry;
  voiceRegistry: VoiceRegistry;
  /** a command connection for shared counters (rate limits); absent in memory */
  redis?: Redis;
  /** resolves when the backend answers (readiness) */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function createRealtimeBackend(config: Config, log: Logger): Promise<RealtimeBackend> {
  if (!config.REDIS_URL) {
    return {
      kind: 'memory',
      pubsub: createMemoryPubSub(),
      connections: new MemoryConnectionRegistry(),
      typingRegistry: new MemoryTypingRegistry(),
      activityRegistry: new MemoryActivityRegistry(),
      voiceRegistry: new MemoryVoiceRegistry(),
      ping: async () => {},
      close: async () => {},
    };
  }
  // the Redis modules (ioredis, graphql-redis-subscriptions) load only when they are used: start-up time
  const [{ connectRedis, createRedisPubSub }, { RedisActivityRegistry, RedisConnectionRegistry, RedisTypingRegistry, RedisVoiceRegistry }] =
    await Promise.all([import('../pubsub/redis.js'), import('./redis.js')]);
  const state = await connectRedis(config.REDIS_URL, log, 'state', config.REDIS_KEY_PREFIX);
  // a send's publish and its typing and rate-limit commands share one connection: with
  // auto-pipelining, what one tick issues leaves in one write
  const pubsub = await createRedisPubSub(config.REDIS_URL, log, config.REDIS_KEY_PREFIX, state);
  return {
    kind: 'redis',
    pubsub,
    connections: new RedisConnectionRegistry(state),
    typingRegistry: new RedisTypingRegistry(state),
    activityRegistry: new RedisActivityRegistry(state),
    voiceRegistry: new RedisVoiceRegistry(state),
    redis: state,
    ping: async () => {
      await state.ping();
    },
    close: async () => {
      await pubsub.close();
      await state.quit().catch(() => {});
    },
  };
}
