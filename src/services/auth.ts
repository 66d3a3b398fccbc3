// Accounts and sessions: sign-up, sign-in (in two steps with two-factor on), changes of password
// and email, and rotating refresh tokens grouped in families.
import { createHash } from 'node:crypto';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { Actor } from './actor.js';
import { DomainError, conflict, unauthenticated } from './errors.js';
import { newId, randomToken } from './ids.js';
import type { Redis } from 'ioredis';
import type { PubSub } from '../pubsub/topics.js';
import type { Passwords } from './passwords.js';
import { type RateLimits, addressKey } from './rateLimits.js';
import { type LoginChallenges, type TokenSigner, bearerToken } from './tokens.js';
import type { TwoFactorService } from './twoFactor.js';
import { check, checkOptional, rules } from './validation.js';

export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  userId: string;
}

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  displayName?: string | null;
}

export interface AuthOptions {
  refreshTokenTtlSeconds: number;
  /** how long a session checked live is trusted without asking the database again; ended
   *  sessions are dropped at once on every instance through the sessionEnded topic */
  sessionCacheMs: number;
  /** a refresh token presented again this soon after its rotation (another tab refreshing
   *  at the same moment) gets the same new pair instead of revoking the session */
  refreshGraceMs: number;
}

/** Where a rotation's new pair waits out the grace window: shared by every instance (Redis),
 *  or this process's memory in the embedded default. */
export interface RotationStore {
  put(key: string, value: string, ttlMs: number): Promise<void>;
  get(key: string): Promise<string | null>;
}

export function memoryRotationStore(): RotationStore {
  const entries = new Map<string, { value: string; until: number }>();
  return {
    async put(key, value, ttlMs) {
      const now = Date.now();
      for (const [k, e] of entries) if (e.until <= now) entries.delete(k);
      entries.set(key, { value, until: now + ttlMs });
    },
    async get(key) {
      const entry = entries.get(key);
      return entry && entry.until > Date.now() ? entry.value : null;
    },
  };
}

export function redisRotationStore(redis: Redis): RotationStore {
  return {
    async put(key, value, ttlMs) {
      await redis.set(`rotation:${key}`, value, 'PX', ttlMs);
    },
    get: (key) => redis.get(`rotation:${key}`),
  };
}

/** How long a refresh that lost the race waits for the winner's pair. */
const ROTATION_WAIT_MS = 2_000;

const MAX_CACHED_SESSIONS = 100_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** What a sign-in challenge remembers of the password it was issued for: a change voids it. */
const passwordStamp = (passwordHash: string) => createHash('sha256').update(passwordHash).digest('base64url').slice(0, 22);

/** Two-factor accounts: the password was right; the challenge token goes with the code to
 *  completeTwoFactorLogin. */
const twoFactorRequired = (challenge: { token: string; expiresAt: Date }) =>
  new DomainError('TWO_FACTOR_REQUIRED', 'This account uses two-factor authentication: complete the sign-in with a code.', {
    challengeToken: challenge.token,
    challengeExpiresAt: challenge.expiresAt.toISOString(),
  });

export class AuthService {
  /** sessionId → whose it is and until when it is known live (insertion order: oldest first) */
  private readonly liveSessions = new Map<string, { userId: string; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly signer: TokenSigner,
    private readonly options: AuthOptions,
    private readonly limits: RateLimits,
    private readonly pubsub: PubSub,
    private readonly rotations: RotationStore,
    private readonly passwords: Passwords,
    private readonly twoFactor: TwoFactorService,
    private readonly challenges: LoginChallenges,
    /** what a new account gets besides a session (it joins the lobby) */
    private readonly welcome: (userId: string) => Promise<void> = async () => {},
  ) {}

  /**
   * Creates an account. Attempts are counted per client address (REGISTER_ADDRESS_LIMIT), so
   * whether a username or email is taken can be asked only that often from one address.
   */
  async register(input: RegisterInput, clientAddress?: string | null): Promise<AuthResult> {
    await this.limits.consume('register', addressKey(clientAddress));
    const username = check(rules.username, input.username, 'username');
    const email = check(rules.email, input.email, 'email').toLowerCase();
    const password = check(rules.password, input.password, 'password');
    const displayName = checkOptional(rules.displayName, input.displayName, 'displayName') ?? username;

    const taken = await this.db.user.findFirst({
      where: { OR: [{ usernameKey: username.toLowerCase() }, { email }] },
      select: { usernameKey: true },
    });
    if (taken) {
      throw taken.usernameKey === username.toLowerCase()
        ? conflict('That username is taken.', 'username')
        : conflict('An account with that email already exists.', 'email');
    }
    const passwordHash = await this.passwords.hash(password);
    try {
      const user = await this.db.user.create({
        data: { id: newId(), username, usernameKey: username.toLowerCase(), email, displayName, passwordHash },
        select: { id: true },
      });
      await this.welcome(user.id);
      return this.startSession(user.id, newId());
    } catch (err) {
      // Two registrations racing for one name: the unique index decides.
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        const fields = String((err.meta as { target?: unknown } | undefined)?.target ?? '');
        throw /email/.test(fields) && !/username/i.test(fields)
          ? conflict('An account with that email already exists.', 'email')
          : conflict('That username is taken.', 'username');
      }
      throw err;
    }
  }

  /**
   * Signs in with a username or an email. Failures count per account (folded: "Alice",
   * "alice" and her email are one counter; an unknown login counts under its lower-cased
   * spelling) and per client address, so neither many guesses at one account nor one guess
   * at many accounts gets far. With two-factor on, the right password issues no session but
   * TWO_FACTOR_REQUIRED with a challenge token for completeTwoFactorLogin.
   */
  async login(login: string, password: string, clientAddress?: string | null): Promise<AuthResult> {
    const key = String(login ?? '').trim().toLowerCase();
    // a NUL can be in no stored name, and PostgreSQL cannot compare it: nobody has it
    const user = key && !key.includes('\u0000')
      ? await this.db.user.findFirst({
          where: key.includes('@') ? { email: key } : { usernameKey: key },
          select: { id: true, passwordHash: true, twoFactorEnabledAt: true },
        })
      : null;
    // Guessing is capped per account (known or not, so the limit does not tell either) and
    // per address. Each attempt takes its point before the password is checked, so a burst of
    // concurrent guesses is cut at the limit too; a success gives the points back.
    const accountKey = user ? `user:${user.id}` : `login:${key}`;
    const address = addressKey(clientAddress);
    const taken = await Promise.allSettled([
      this.limits.consume('failedLogin', accountKey),
      this.limits.consume('loginAddress', address),
    ]);
    const refused = taken.find((t): t is PromiseRejectedResult => t.status === 'rejected');
    if (refused) throw refused.reason;
    const ok = await this.passwords.matches(user?.passwordHash, password);
    if (!user || !ok) throw unauthenticated('Invalid login or password.');
    await this.limits.refund('loginAddress', address);
    await this.limits.reset('failedLogin', accountKey);
    if (user.twoFactorEnabledAt) throw twoFactorRequired(await this.challenges.issue(user.id, passwordStamp(user.passwordHash)));
    return this.startSession(user.id, newId());
  }

  /**
   * The second step of a two-factor sign-in: the challenge `login` answered with, and a code
   * of the authenticator or a recovery code. A challenge is void once expired
   * (TWO_FACTOR_CHALLENGE_TTL_SECONDS), after a password change, or with two-factor turned
   * off; wrong codes count per account (TWO_FACTOR_FAILURE_LIMIT).
   */
  async completeTwoFactorLogin(challengeToken: string, code: string): Promise<AuthResult> {
    const claims = await this.challenges.verify(challengeToken);
    const user = await this.db.user.findUnique({
      where: { id: claims.userId },
      select: { passwordHash: true, twoFactorEnabledAt: true },
    });
    if (!user?.twoFactorEnabledAt || passwordStamp(user.passwordHash) !== claims.passwordStamp) {
      throw unauthenticated('This sign-in challenge is no longer valid; sign in again.');
    }
    await this.twoFactor.verifyCode(claims.userId, code);
    return this.startSession(claims.userId, newId());
  }

  /**
   * Replaces the password (the current one asked again; the new one by register's rules) and
   * signs out every other session of the user, as logout would: their refresh and access
   * tokens stop working and their sockets close. The session asking stays signed in.
   */
  async changePassword(actor: Actor, currentPassword: string, newPassword: string): Promise<boolean> {
    const userId = actor.requireUser();
    const password = check(rules.password, newPassword, 'newPassword');
    await this.passwords.confirm(userId, currentPassword, 'currentPassword');
    await this.db.user.update({ where: { id: userId }, data: { passwordHash: await this.passwords.hash(password) } });
    const ended = await this.db.refreshSession.updateManyAndReturn({
      where: { userId, revokedAt: null, ...(actor.sessionId ? { familyId: { not: actor.sessionId } } : {}) },
      data: { revokedAt: new Date() },
      select: { familyId: true },
    });
    for (const familyId of new Set(ended.map((row) => row.familyId))) await this.sessionEnded(familyId, userId);
    return true;
  }

  /** Moves the account to another email (the password asked again): validated, stored
   *  lower-cased, CONFLICT when another account has it. */
  async changeEmail(actor: Actor, password: string, newEmail: string, clientAddress?: string | null) {
    const userId = actor.requireUser();
    // what register limits per address, since both tell whether an email has an account
    await this.limits.consume('register', addressKey(clientAddress));
    const email = check(rules.email, newEmail, 'newEmail').toLowerCase();
    await this.passwords.confirm(userId, password, 'password');
    const taken = await this.db.user.findFirst({ where: { email, id: { not: userId } }, select: { id: true } });
    if (taken) throw conflict('An account with that email already exists.', 'newEmail');
    try {
      return await this.db.user.update({ where: { id: userId }, data: { email } });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        throw conflict('An account with that email already exists.', 'newEmail');
      }
      throw err;
    }
  }

  /**
   * Rotates a refresh token. Presenting it again within refreshGraceMs of its rotation (two
   * tabs refreshing at once) answers with the same new pair; presenting it later is taken for
   * theft and revokes the whole family.
   */
  async refresh(refreshToken: string): Promise<AuthResult> {
    const tokenHash = hashToken(refreshToken);
    const row = await this.db.refreshSession.findUnique({ where: { tokenHash } });
    if (!row) throw unauthenticated('Invalid refresh token.');
    if (row.revokedAt || (await this.familyRevoked(row.familyId))) throw unauthenticated('This session was signed out.');
    if (row.rotatedAt) return this.rotatedAgain(tokenHash, row.familyId, row.rotatedAt);
    if (row.expiresAt <= new Date()) throw unauthenticated('Refresh token expired; sign in again.');
    // Only one of concurrent refreshes with the same token rotates it; the others get its pair.
    const claimed = await this.db.refreshSession.updateMany({
      where: { id: row.id, rotatedAt: null, revokedAt: null },
      data: { rotatedAt: new Date() },
    });
    if (claimed.count !== 1) return this.rotatedAgain(tokenHash, row.familyId, new Date());
    const result = await this.startSession(row.userId, row.familyId);
    await this.rotations
      .put(tokenHash, JSON.stringify({ ...result, accessTokenExpiresAt: result.accessTokenExpiresAt.toISOString() }), this.options.refreshGraceMs)
      .catch(() => {}); // without it a racing tab is told to retry, which it may
    // A concurrent reuse may have revoked the family while this refresh won its claim.
    if (await this.familyRevoked(row.familyId)) {
      await this.revokeFamily(row.familyId);
      throw unauthenticated('Refresh token was already used; the session has been revoked.');
    }
    return result;
  }

  /** A token presented after its rotation: the same new pair within the grace window, else
   *  the family is revoked (a replayed token looks like theft). */
  private async rotatedAgain(tokenHash: string, familyId: string, rotatedAt: Date): Promise<AuthResult> {
    if (this.options.refreshGraceMs <= 0 || Date.now() - rotatedAt.getTime() > this.options.refreshGraceMs) {
      await this.revokeFamily(familyId);
      throw unauthenticated('Refresh token was already used; the session has been revoked.');
    }
    // the winning refresh may still be storing its pair
    const deadline = Date.now() + ROTATION_WAIT_MS;
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      const stored = await this.rotations.get(tokenHash).catch(() => null);
      if (stored) {
        const pair = JSON.parse(stored) as Omit<AuthResult, 'accessTokenExpiresAt'> & { accessTokenExpiresAt: string };
        if (await this.familyRevoked(familyId)) throw unauthenticated('This session was signed out.');
        return { ...pair, accessTokenExpiresAt: new Date(pair.accessTokenExpiresAt) };
      }
      if (Date.now() + wait > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    throw new DomainError('CONFLICT', 'This session is being refreshed by another request; retry in a moment.', { retryAfterMs: 500 });
  }

  /** Revokes the session the refresh token belongs to. Unknown tokens are not an error. */
  async logout(refreshToken: string): Promise<boolean> {
    const row = await this.db.refreshSession.findUnique({
      where: { tokenHash: hashToken(refreshToken) },
      select: { familyId: true },
    });
    if (row) await this.revokeFamily(row.familyId);
    return true;
  }

  /** Listens for sessions ended on any instance, so none is trusted from the cache after. */
  async start(): Promise<void> {
    await this.pubsub.listen('sessionEnded', 'all', (e) => this.liveSessions.delete(e.sessionId));
  }

  /**
   * The Actor for an `Authorization` value: verifies the token and that its session is
   * live (it exists, belongs to the token's user and was not signed out). Never throws: a refused token yields an anonymous actor that carries the
   * reason, so operations that need a user fail with it and public ones still work.
   */
  async authenticate(authorization: string | null | undefined): Promise<Actor> {
    try {
      const accessToken = bearerToken(authorization);
      if (!accessToken) return new Actor(this.db, null);
      const claims = await this.signer.verify(accessToken);
      if (!(await this.sessionLive(claims.sessionId, claims.userId))) throw unauthenticated('This session was signed out.');
      return new Actor(this.db, claims.userId, claims.sessionId, claims.expiresAt.getTime());
    } catch (err) {
      if (err instanceof DomainError) return new Actor(this.db, null, null, null, err);
      throw err;
    }
  }

  anonymous(): Actor {
    return new Actor(this.db, null);
  }

  private async startSession(userId: string, familyId: string): Promise<AuthResult> {
    const refreshToken = randomToken(32);
    await this.db.refreshSession.create({
      data: {
        id: newId(),
        familyId,
        userId,
        tokenHash: hashToken(refreshToken),
        expiresAt: new Date(Date.now() + this.options.refreshTokenTtlSeconds * 1000),
      },
    });
    const access = await this.signer.sign(userId, familyId);
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, userId };
  }

  /** One indexed query per session per sessionCacheMs, not one per request. */
  private async sessionLive(sessionId: string, userId: string): Promise<boolean> {
    const now = Date.now();
    const known = this.liveSessions.get(sessionId);
    if (known && known.userId === userId && known.until > now) return true;
    // Revocation is family-wide: one revoked row means the whole session is over; a family
    // with no row never existed (or went with its user).
    const [state] = await this.db.$queryRaw<{ rows: number; revoked: boolean }[]>`
      SELECT count(*)::int AS rows, coalesce(bool_or("revokedAt" IS NOT NULL), false) AS revoked
      FROM "RefreshSession" WHERE "familyId" = ${sessionId} AND "userId" = ${userId}`;
    const live = Boolean(state && state.rows > 0 && !state.revoked);
    if (live) {
      this.liveSessions.delete(sessionId);
      this.liveSessions.set(sessionId, { userId, until: now + this.options.sessionCacheMs });
      if (this.liveSessions.size > MAX_CACHED_SESSIONS) this.liveSessions.delete(this.liveSessions.keys().next().value as string);
    }
    return live;
  }

  private async familyRevoked(familyId: string): Promise<boolean> {
    const revoked = await this.db.refreshSession.findFirst({
      where: { familyId, revokedAt: { not: null } },
      select: { id: true },
    });
    return revoked !== null;
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.db.refreshSession.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });
    const owner = await this.db.refreshSession.findFirst({ where: { familyId }, select: { userId: true } });
    await this.sessionEnded(familyId, owner?.userId ?? '');
  }

  /** A revoked session stops being trusted here at once and, through the sessionEnded topic,
   *  on every instance, whose sockets and streams of it close. */
  private async sessionEnded(familyId: string, userId: string): Promise<void> {
    this.liveSessions.delete(familyId);
    // Best effort: with the event lost (Redis away), other instances stop trusting the
    // session when their cache entry lapses, sessionCacheMs later.
    await this.pubsub.publish('sessionEnded', 'all', { sessionId: familyId, userId }).catch(() => {});
  }
}
