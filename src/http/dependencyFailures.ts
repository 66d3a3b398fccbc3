// Failures that mean "a dependency is away", not "the code is wrong": PostgreSQL unreachable,
// restarting or out of connections; Redis down or not answering. Clients get
// SERVICE_UNAVAILABLE with retryAfterMs for these, and can retry, instead of an
// INTERNAL_SERVER_ERROR that tells them nothing.

/** Driver adapter error kinds (Prisma) of a database that cannot be used right now. */
const UNREACHABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'TooManyConnections', 'SocketTimeout']);
/** Prisma's codes for the same: can't reach, timed out, server closed the connection, pool timeout. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
/** PostgreSQL SQLSTATEs: admin/crash shutdown, cannot connect now, too many connections, connection exceptions. */
const POSTGRES_STATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);
const MESSAGES =
  /Can't reach database server|Connection terminated|timeout exceeded when trying to connect|Connection is closed|Stream isn't writeable|Command timed out|Reached the max retries per request|Server has closed the connection/i;

export const RETRY_AFTER_MS = 1_000;

/** Whether the error, or one it wraps, says a dependency is unavailable. */
export function isDependencyFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length) {
    const current = queue.shift() as Record<string, unknown> | null | undefined;
    if (!current || typeof current !== 'object' || seen.has(current) || seen.size > 10) continue;
    seen.add(current);
    const code = typeof current.code === 'string' ? current.code : undefined;
    if (code && (PRISMA_CODES.has(code) || POSTGRES_STATES.has(code) || SOCKET_CODES.has(code))) return true;
    if (typeof current.kind === 'string' && UNREACHABLE_KINDS.has(current.kind)) return true;
    if (current.kind === 'postgres' && typeof current.code === 'string' && POSTGRES_STATES.has(current.code)) return true;
    if (current.name === 'MaxRetriesPerRequestError' || current.name === 'PrismaClientInitializationError') return true;
    if (typeof current.message === 'string' && MESSAGES.test(current.message)) return true;
    const meta = current.meta as Record<string, unknown> | undefined;
    queue.push(current.cause, current.originalError, meta?.driverAdapterError);
  }
  return false;
}
