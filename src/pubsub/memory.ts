import { type PubSub, topicChannel } from './topics.js';

/** Single-process PubSub (the embedded default). A payload is JSON round-tripped once per
 *  publish, as over Redis: no Date objects, nothing shared with the publisher, and one parsed
 *  copy for every listener, which the delivery path relies on to execute an event once per
 *  cohort. Listeners must treat payloads as read-only. */
export function createMemoryPubSub(): PubSub {
  const handlers = new Map<string, Set<(payload: never) => void>>();
  return {
    async publish(topic, key, payload) {
      const listeners = handlers.get(topicChannel(topic, key));
      if (!listeners?.size) return;
      const event = JSON.parse(JSON.stringify(payload)) as never;
      for (const handler of [...listeners]) handler(event);
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
    // in one process nothing is ever missed
    onResume: () => () => {},
    async listenerCount(topic, key) {
      return handlers.get(topicChannel(topic, key))?.size ?? 0;
    },
    async close() {
      handlers.clear();
    },
  };
}
