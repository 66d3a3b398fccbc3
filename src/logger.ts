import { pino } from 'pino';
import { currentRequestId } from './http/requestId.js';

export type { Logger } from 'pino';

/** What is never logged, wherever it appears one level down in a logged object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  '*.authorization',
  'password',
  '*.password',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'token',
  '*.token',
  'variables',
  '*.variables',
];

/** Prisma's messages can render a failed call's arguments (a message's content, a password
 *  hash): only their last line, the reason, is logged, with the error's name, code and meta. */
function errSerializer(err: unknown) {
  const serialized = pino.stdSerializers.err(err as Error) as Record<string, unknown> | undefined;
  const name = `${serialized?.type ?? ''} ${(err as Error | undefined)?.name ?? ''}`;
  if (!serialized || !/\bPrismaClient/.test(name)) return serialized;
  const lines = String(serialized.message ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  const reason = lines.at(-1) ?? '';
  const { stack: _stack, message: _message, ...rest } = serialized;
  return { ...rest, message: reason, stack: String(serialized.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at ')).join('\n') };
}

/** pino JSON lines on stdout (or `destination`, for tests). */
export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino({
    level,
    base: { service: 'chat-backend' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: errSerializer },
    // every line written while an HTTP request is handled names it (src/http/requestId.ts)
    mixin: () => {
      const reqId = currentRequestId();
      return reqId ? { reqId } : {};
    },
  }, destination);
}
