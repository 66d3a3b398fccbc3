// The hottest statements (a send, a history page) run on the driver adapter that the Prisma
// client itself runs on: the same pool, the same statement counter, the same SQL. What they
// skip is the client's per-call work around a raw query (request building, tracing spans,
// the result mapping of its query interpreter), measured at about 0.3 ms of CPU per call,
// more than node-postgres itself spends. Everything else goes through the Prisma client.
import type { ArgType, SqlDriverAdapterFactory, SqlQueryable } from '@prisma/driver-adapter-utils';

/** A statement's parameters with their types, which the adapter needs to bind them. */
export const arg = {
  text: (value: string | null): TypedArg => [value, { scalarType: 'string', arity: 'scalar' }],
  texts: (value: readonly string[]): TypedArg => [[...value], { scalarType: 'string', arity: 'list' }],
  int: (value: number): TypedArg => [value, { scalarType: 'int', arity: 'scalar' }],
};

export type TypedArg = [value: unknown, type: ArgType];

const preparedNames = new Map<string, string>();

/**
 * Marks a hot statement to be prepared once per PostgreSQL connection and executed by name
 * after that: the server neither parses nor plans it again, and only its parameters cross the
 * wire. Only fixed statements are marked (a bounded set; each costs a little server memory per
 * connection). Behind PgBouncer in transaction mode this needs its max_prepared_statements.
 */
export function prepared(sql: string): string {
  if (!preparedNames.has(sql)) preparedNames.set(sql, `chat_${preparedNames.size + 1}`);
  return sql;
}

/** The name a statement is prepared under, if it is one of the marked. */
export const preparedName = (sql: string): string | undefined => preparedNames.get(sql);

export interface Statements {
  /**
   * The rows of one statement as objects keyed by column name, with values as the adapters
   * give them on both backends: timestamps as ISO strings, bigints as strings, json as text.
   */
  rows<T>(sql: string, args: readonly TypedArg[]): Promise<T[]>;
}

export async function connectStatements(factory: SqlDriverAdapterFactory): Promise<Statements> {
  const adapter: SqlQueryable = await factory.connect();
  return {
    async rows<T>(sql: string, args: readonly TypedArg[]): Promise<T[]> {
      const result = await adapter.queryRaw({ sql, args: args.map((a) => a[0]), argTypes: args.map((a) => a[1]) });
      const names = result.columnNames;
      return result.rows.map((values) => {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
        return row as T;
      });
    },
  };
}
