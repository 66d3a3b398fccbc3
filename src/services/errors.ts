// Domain errors. Services throw these; src/http/errors.ts turns them into GraphQL errors with
// the contract's extensions.code. Anything else that escapes a service is masked as internal.
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  /** a dependency (here: the media node) cannot be reached now: retry after extensions.retryAfterMs */
  | 'SERVICE_UNAVAILABLE'
  /** the password was right and the account needs its second factor: extensions.challengeToken */
  | 'TWO_FACTOR_REQUIRED';

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const unauthenticated = (message = 'You must be signed in.') => new DomainError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You are not allowed to do that.') => new DomainError('FORBIDDEN', message);
export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found.`);
export const badInput = (message: string, field?: string) =>
  new DomainError('BAD_USER_INPUT', message, field ? { field } : {});
export const conflict = (message: string, field?: string) =>
  new DomainError('CONFLICT', message, field ? { field } : {});
export const payloadTooLarge = (message: string) => new DomainError('PAYLOAD_TOO_LARGE', message);
export const rateLimited = (message: string, retryAfterMs: number) =>
  new DomainError('RATE_LIMITED', message, { retryAfterMs });
/** A dependency is away (retryable): the same code and retryAfterMs as src/http/dependencyFailures.ts gives a database or Redis outage. */
export const serviceUnavailable = (message: string, retryAfterMs = 1_000) => new DomainError('SERVICE_UNAVAILABLE', message, { retryAfterMs });
