import type { ConnectionResult } from './connections.js';

/** The extra field every connection of ours has. */
// biome-ignore lint/suspicious/noExplicitAny: Pothos' field builder type is generic per connection.
export const connectionFields = (t: any) => ({
  totalCount: t.int({
    resolve: (connection: ConnectionResult<unknown>) => connection.totalCount(),
  }),
});
