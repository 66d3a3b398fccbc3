// Automatic persisted queries, Apollo's protocol (`extensions.persistedQuery { version: 1,
// sha256Hash }`), by @graphql-yoga/plugin-apq: a hash alone runs the query registered under it,
// or answers PERSISTED_QUERY_NOT_FOUND so that the client sends hash and query once.
//
// The store is this instance's memory, bounded (APQ_MAX_ENTRIES queries of at most
// APQ_MAX_QUERY_LENGTH characters, least recently used evicted): with several instances a
// client that meets an instance which has not seen its query yet gets NOT_FOUND once and
// registers it there, which Apollo's PersistedQueryLink does on its own. Nothing anonymous
// clients send grows shared state (Redis) without bound.
import { type APQStore, createInMemoryAPQStore, useAPQ } from '@graphql-yoga/plugin-apq';
import type { Plugin } from 'graphql-yoga';

export const APQ_MAX_ENTRIES = 1000;
export const APQ_MAX_QUERY_LENGTH = 64 * 1024;
const APQ_TTL_MS = 24 * 3600 * 1000;

export function persistedQueries(): Plugin {
  const memory = createInMemoryAPQStore({ max: APQ_MAX_ENTRIES, ttl: APQ_TTL_MS });
  const store: APQStore = {
    get: (hash) => memory.get(hash),
    set: (hash, query) => {
      // A query too long to keep still runs; its hash alone will keep answering NOT_FOUND.
      if (query.length <= APQ_MAX_QUERY_LENGTH) memory.set(hash, query);
    },
  };
  return useAPQ({ store });
}
