// Counts the statements this process sends to the database, through the driver adapter
// Prisma runs on. Tests assert with it that fan-out queries nothing; operators read it as a
// metric. A transaction counts its BEGIN, statements and COMMIT, as the wire sees them.
import type { SqlDriverAdapter, SqlDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils';

export interface QueryCounter {
  /** statements sent since the process started */
  readonly count: number;
}

const COUNTED = new Set(['queryRaw', 'executeRaw', 'executeScript']);

export function countQueries<F extends SqlDriverAdapterFactory>(factory: F): { factory: F; counter: QueryCounter } {
  const counter = { count: 0 };
  const counting = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(obj, key, receiver) {
        const value = Reflect.get(obj, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const name = String(key);
        if (COUNTED.has(name)) {
          return (...args: unknown[]) => {
            counter.count += 1;
            return (value as (...a: unknown[]) => unknown).apply(obj, args);
          };
        }
        if (name === 'startTransaction') {
          // the adapter sends BEGIN itself, below this proxy; COMMIT comes back through executeRaw
          return async (...args: unknown[]) => {
            counter.count += 1;
            const tx = (await (value as (...a: unknown[]) => Promise<Transaction>).apply(obj, args)) as Transaction;
            return counting(tx);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(obj);
      },
    });
  const wrapped = new Proxy(factory, {
    get(obj, key, receiver) {
      if (key === 'connect') {
        return async () => counting((await obj.connect()) as SqlDriverAdapter);
      }
      const value = Reflect.get(obj, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(obj) : value;
    },
  });
  return { factory: wrapped, counter };
}
