// The API's refusals (extensions.code, see the contract's "Errors") as sentences for people.
import type { CombinedError } from '@urql/core';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL_SERVER_ERROR';

interface ErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

function firstGraphQLError(error: CombinedError | ErrorLike[] | null | undefined): ErrorLike | undefined {
  if (!error) return undefined;
  if (Array.isArray(error)) return error[0];
  return error.graphQLErrors[0];
}

export function errorCode(error: CombinedError | ErrorLike[] | null | undefined): string | null {
  const code = firstGraphQLError(error)?.extensions?.code;
  return typeof code === 'string' ? code : null;
}

/** Seconds until a RATE_LIMITED refusal may be retried, rounded up. */
export function retryAfterSeconds(error: CombinedError | ErrorLike[] | null | undefined): number | null {
  const ms = firstGraphQLError(error)?.extensions?.retryAfterMs;
  return typeof ms === 'number' ? Math.max(1, Math.ceil(ms / 1000)) : null;
}

/** One sentence for a failed operation; `what` names it ("send the message"). */
export function describeError(error: CombinedError | ErrorLike[] | Error | null | undefined, what = 'do that'): string {
  if (!error) return '';
  if (error instanceof Error && !('graphQLErrors' in error)) return error.message || `Could not ${what}.`;
  const combined = error as CombinedError | ErrorLike[];
  if (!Array.isArray(combined) && combined.networkError) {
    return `Could not ${what}: the server cannot be reached. Check your connection and try again.`;
  }
  const first = firstGraphQLError(combined);
  const code = errorCode(combined);
  switch (code) {
    case 'UNAUTHENTICATED':
      return first?.message && /password|login|credential/i.test(first.message)
        ? first.message
        : 'Your session has expired. Please sign in again.';
    case 'FORBIDDEN':
      return `You do not have permission to ${what}.`;
    case 'NOT_FOUND':
      return `Could not ${what}: it no longer exists, or you cannot see it.`;
    case 'BAD_USER_INPUT':
      return first?.message ?? `Could not ${what}: check what you entered.`;
    case 'CONFLICT':
      return first?.message ?? `Could not ${what}: it conflicts with something that exists.`;
    case 'RATE_LIMITED': {
      const seconds = retryAfterSeconds(combined);
      return `You are doing that too often. Try again in ${seconds ?? 'a few'} second${seconds === 1 ? '' : 's'}.`;
    }
    case 'PAYLOAD_TOO_LARGE':
      return first?.message ?? 'That file is too large.';
    case 'INTERNAL_SERVER_ERROR':
      return `Something went wrong on the server and we could not ${what}. Try again.`;
    default:
      return first?.message ?? `Could not ${what}.`;
  }
}

/** The input field a BAD_USER_INPUT refusal names, if any. */
export function errorField(error: CombinedError | null | undefined): string | null {
  const field = firstGraphQLError(error)?.extensions?.field;
  return typeof field === 'string' ? field : null;
}
