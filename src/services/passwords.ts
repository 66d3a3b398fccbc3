// Passwords: argon2id hashes, and the check a signed-in user passes again before changing
// what protects the account (password, email, two-factor).
import * as argon2 from 'argon2';
import type { Db } from '../db/client.js';
import { badInput, unauthenticated } from './errors.js';
import { randomToken } from './ids.js';
import type { RateLimits } from './rateLimits.js';

export class Passwords {
  private readonly hashOptions: argon2.HashOptions & { raw?: false };
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: Db,
    private readonly limits: RateLimits,
    memoryKib: number,
  ) {
    // OWASP's argon2id baseline is m=19 MiB, t=2, p=1.
    this.hashOptions = { type: argon2.argon2id, memoryCost: memoryKib, timeCost: 2, parallelism: 1 };
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.hashOptions);
  }

  /** Whether `password` matches `hash`. Without a hash (no such account) a dummy one is
   *  verified, so the time taken does not tell whether the account exists. */
  async matches(hash: string | null | undefined, password: unknown): Promise<boolean> {
    const verified = await argon2.verify(hash ?? (await this.getDummyHash()), String(password ?? '')).catch(() => false);
    return Boolean(hash) && verified;
  }

  /**
   * The signed-in user's password, asked again before a sensitive change; BAD_USER_INPUT on
   * `field` when wrong. Wrong answers count as failed sign-ins on the account
   * (LOGIN_FAILURE_LIMIT), so a stolen access token guesses the password no faster than the
   * login form does.
   */
  async confirm(userId: string, password: unknown, field: string): Promise<{ passwordHash: string }> {
    const user = await this.db.user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
    if (!user) throw unauthenticated('This session was signed out.');
    const accountKey = `user:${userId}`;
    await this.limits.consume('failedLogin', accountKey);
    if (!(await this.matches(user.passwordHash, password))) throw badInput('The password is not correct.', field);
    await this.limits.reset('failedLogin', accountKey);
    return user;
  }

  private getDummyHash(): Promise<string> {
    const pending = this.dummyHash ?? argon2.hash(randomToken(16), this.hashOptions);
    this.dummyHash = pending;
    return pending;
  }
}
