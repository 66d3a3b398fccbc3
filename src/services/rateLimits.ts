// Limits on what people can do in a burst, shared by every instance when Redis is there
// (rate-limiter-flexible counts in Redis, and falls back to counting in memory if Redis
// errors rather than refusing everyone).
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from './errors.js';

export interface RateLimitOptions {
  /** messages one user may send per 10 s; 0 disables */
  messagesPer10s: number;
  /** failed sign-ins on one account per 15 min; 0 disables */
  failedLoginsPer15m: number;
}

type LimitName = 'message' | 'failedLogin';

const WINDOWS: Record<LimitName, { seconds: number; what: string }> = {
  message: { seconds: 10, what: 'You are sending messages too fast.' },
  failedLogin: { seconds: 15 * 60, what: 'Too many failed sign-ins for this account; try again later.' },
};

export class RateLimits {
  private readonly limiters = new Map<LimitName, RateLimiterAbstract>();

  constructor(options: RateLimitOptions, redis?: Redis) {
    const points: Record<LimitName, number> = { message: options.messagesPer10s, failedLogin: options.failedLoginsPer15m };
    for (const name of Object.keys(WINDOWS) as LimitName[]) {
      if (points[name] <= 0) continue;
      const base = { keyPrefix: `chat:rl:${name}`, points: points[name], duration: WINDOWS[name].seconds };
      this.limiters.set(
        name,
        redis
          ? new RateLimiterRedis({ ...base, storeClient: redis, insuranceLimiter: new RateLimiterMemory(base) })
          : new RateLimiterMemory(base),
      );
    }
  }

  /** Counts one action; RATE_LIMITED (with retryAfterMs) once the window's allowance is spent. */
  async consume(name: LimitName, key: string): Promise<void> {
    const limiter = this.limiters.get(name);
    if (!limiter) return;
    try {
      await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw rateLimited(WINDOWS[name].what, Math.max(1, Math.ceil(err.msBeforeNext)));
      throw err;
    }
  }

  /** Forgets the count (a successful sign-in clears the failed ones). */
  async reset(name: LimitName, key: string): Promise<void> {
    await this.limiters.get(name)?.delete(key);
  }

  /** Refuses at once when the allowance is already spent, without counting. */
  async assertAllowed(name: LimitName, key: string): Promise<void> {
    const limiter = this.limiters.get(name);
    const state = limiter ? await limiter.get(key) : null;
    if (state && limiter && state.consumedPoints >= limiter.points) {
      throw rateLimited(WINDOWS[name].what, Math.max(1, Math.ceil(state.msBeforeNext)));
    }
  }
}
