// Limits on what people can do in a burst, shared by every instance when Redis is there
// (rate-limiter-flexible counts in Redis, and falls back to counting in memory if Redis
// errors rather than refusing everyone).
import { isIP } from 'node:net';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { rateLimited } from './errors.js';

export interface RateLimitOptions {
  /** messages one user may send per 10 s; 0 disables */
  messagesPer10s: number;
  /** failed sign-ins on one account per 15 min; 0 disables */
  failedLoginsPer15m: number;
  /** failed sign-ins from one client address per 15 min, whatever the accounts; 0 disables */
  failedLoginsPerAddressPer15m?: number;
  /** registration and email-change attempts from one client address per hour; 0 disables */
  registrationsPerAddressPerHour?: number;
  /** `users` searches from one client address per minute; 0 disables */
  searchesPerAddressPerMinute?: number;
  /** wrong two-factor codes (authenticator or recovery) on one account per 15 min; 0 disables */
  failedTwoFactorCodesPer15m?: number;
  /** searchMessages queries by one user per minute; 0 disables */
  messageSearchesPerMinute?: number;
}

export type LimitName = 'message' | 'failedLogin' | 'loginAddress' | 'register' | 'search' | 'twoFactor' | 'messageSearch';

const WINDOWS: Record<LimitName, { seconds: number; what: string }> = {
  message: { seconds: 10, what: 'You are sending messages too fast.' },
  failedLogin: { seconds: 15 * 60, what: 'Too many failed sign-ins for this account; try again later.' },
  loginAddress: { seconds: 15 * 60, what: 'Too many failed sign-ins from this address; try again later.' },
  register: { seconds: 3600, what: 'Too many registrations or email changes from this address; try again later.' },
  search: { seconds: 60, what: 'You are searching too fast.' },
  twoFactor: { seconds: 15 * 60, what: 'Too many wrong two-factor codes for this account; try again later.' },
  messageSearch: { seconds: 60, what: 'You are searching messages too fast.' },
};

/**
 * The key a client address counts under: an IPv4 address as is (an IPv4-mapped IPv6 one
 * unwrapped), an IPv6 address by its /64 (one host usually holds a whole /64, so counting
 * single addresses would let it rotate past any limit). Unknown: one shared bucket.
 */
export function addressKey(address: string | null | undefined): string {
  const raw = String(address ?? '').trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw);
  const ip = mapped ? mapped[1]! : raw;
  const version = isIP(ip);
  if (version === 4) return ip;
  if (version !== 6) return 'unknown';
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class RateLimits {
  private readonly limiters = new Map<LimitName, RateLimiterAbstract>();

  constructor(options: RateLimitOptions, redis?: Redis) {
    const points: Record<LimitName, number> = {
      message: options.messagesPer10s,
      failedLogin: options.failedLoginsPer15m,
      loginAddress: options.failedLoginsPerAddressPer15m ?? 0,
      register: options.registrationsPerAddressPerHour ?? 0,
      search: options.searchesPerAddressPerMinute ?? 0,
      twoFactor: options.failedTwoFactorCodesPer15m ?? 0,
      messageSearch: options.messageSearchesPerMinute ?? 0,
    };
    for (const name of Object.keys(WINDOWS) as LimitName[]) {
      if (points[name] <= 0) continue;
      const base = { keyPrefix: `rl:${name}`, points: points[name], duration: WINDOWS[name].seconds };
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

  /** Gives one counted point back (an attempt that turned out not to count). */
  async refund(name: LimitName, key: string): Promise<void> {
    await this.limiters.get(name)?.reward(key, 1);
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
