import type { Page } from '../services/pagination.js';
import { type NodeTypeName, parseGlobalId, toGlobalId } from '../globalIds.js';

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Connection arguments with cursors (global ids of `type`) turned into local ids. */
export function pageArgs(args: ConnectionArgs, type: NodeTypeName) {
  return {
    first: args.first,
    last: args.last,
    after: args.after ? parseGlobalId(args.after, type, 'after') : null,
    before: args.before ? parseGlobalId(args.before, type, 'before') : null,
  };
}

export interface ConnectionResult<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
}

/** A service page as a Relay connection; a node's cursor is its global id. */
export function toConnection<T extends { id: string }>(
  page: Page<T> & { totalCount: () => Promise<number> },
  type: NodeTypeName,
): ConnectionResult<T> {
  const edges = page.items.map((node) => ({ cursor: toGlobalId(type, node.id), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: page.totalCount,
  };
}
