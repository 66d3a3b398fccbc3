import { type PubSub, topicChannel } from './topics.js';

/** Single-process PubSub (the embedded default). Payloads are JSON round-tripped so code
 *  behaves as it does over Redis: no shared references, no Date objects. */
export function createMemoryPubSub(): PubSub {
  const handlers = new Map<string, Set<(payload: never) => void>>();
  return {
    async publish(topic, key, payload) {
      const listeners = handlers.get(topicChannel(topic, key));
      if (!listeners?.size) return;
      const json = JSON.stringify(payload);
      for (const handler of [...listeners]) handler(JSON.parse(json) as never);
    },
    async listen(topic, key, handler) {
      const channel = topicChannel(topic, key);
      let set = handlers.get(channel);
      if (!set) handlers.set(channel, (set = new Set()));
      const entry = handler as (payload: never) => void;
      set.add(entry);
      return async () => {
        set.delete(entry);
        if (set.size === 0) handlers.delete(channel);
      };
    },
    async listenerCount(topic, key) {
      return handlers.get(topicChannel(topic, key))?.size ?? 0;
    },
    async close() {
      handlers.clear();
    },
  };
}
