// The messages between the embedded database's thread (./pgliteWorker.ts) and its client on
// the main thread (./pgliteThread.ts).

export const isInMemory = (dataDir: string) => dataDir === ':memory:' || dataDir.startsWith('memory://');

export type ThreadRequest =
  | {
      id: number;
      op: 'query';
      sql: string;
      params: unknown[];
      rowMode?: 'array' | 'object';
      /** types whose values come back as PostgreSQL's text, for the caller's own parsers */
      rawTypes: number[];
    }
  | { id: number; op: 'exec'; sql: string }
  | { id: number; op: 'close' };

export interface ThreadResult<T = unknown> {
  rows: T[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}

export interface ThreadError {
  message: string;
  name: string;
  /** a PostgreSQL error (PGlite's DatabaseError), rebuilt as one on the main thread */
  database?: boolean;
  /** its code, severity, detail, constraint, query, … */
  fields: Record<string, unknown>;
}

/** id 0 answers the opening of the database */
export type ThreadResponse = { id: number; result: ThreadResult | ThreadResult[] | null } | { id: number; error: ThreadError };
