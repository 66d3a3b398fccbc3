// Access tokens: short-lived HS256 JWTs carrying the user (sub) and the login session (sid).
// Keys rotate without signing anyone out: JWT_SECRET signs, and tokens name their key in the
// `kid` header (a digest of the secret, never the secret); JWT_PREVIOUS_SECRETS still verify
// the tokens they signed until those expire (at most ACCESS_TOKEN_TTL_SECONDS after the switch).
import { createHash, hkdfSync } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { unauthenticated } from './errors.js';

const ISSUER = 'chat-backend';
const MAX_VERIFIED_TOKENS = 50_000;

export interface AccessClaims {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

/** The key id of a secret: 16 characters of its SHA-256, which tell keys apart and reveal nothing. */
export const keyId = (secret: string) => createHash('sha256').update(`chat-backend jwt kid\0${secret}`).digest('base64url').slice(0, 16);

interface VerificationKey {
  kid: string;
  key: Uint8Array;
}

export class TokenSigner {
  /**
   * SHA-256 of a token → its claims, for tokens whose signature was checked (oldest first).
   * Keyed by the digest, not the token: a 43-character key instead of the ~300-character token
   * (and the `Bearer …` header string it was cut from, which V8 keeps alive behind a slice),
   * for each of up to MAX_VERIFIED_TOKENS users.
   */
  private readonly verified = new Map<string, AccessClaims>();
  private readonly key: Uint8Array;
  private readonly kid: string;
  /** the signing key first, then the previous ones */
  private readonly keys: VerificationKey[];

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    previousSecrets: readonly string[] = [],
  ) {
    const encode = (s: string): VerificationKey => ({ kid: keyId(s), key: new TextEncoder().encode(s) });
    const current = encode(secret);
    this.key = current.key;
    this.kid = current.kid;
    this.keys = [current, ...previousSecrets.filter((s) => s !== secret).map(encode)];
  }

  /** Keys to try for a token: the one its kid names; without a kid (tokens signed before key
   *  ids existed), every key. An unknown kid matches none. */
  private keysFor(token: string): Uint8Array[] {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw unauthenticated('Invalid access token.');
    }
    if (kid === undefined) return this.keys.map((k) => k.key);
    const found = this.keys.find((k) => k.kid === kid);
    if (!found) throw unauthenticated('Invalid access token.');
    return [found.key];
  }

  async sign(userId: string, sessionId: string): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: this.kid })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * Verifies a token; throws UNAUTHENTICATED with a reason a client can act on. A token once
   * verified is remembered until it expires (its signature cannot change): WebCrypto's HMAC
   * check was the costliest step of a small request. Whether its session is still live is
   * the caller's question, asked every time.
   */
  async verify(token: string): Promise<AccessClaims> {
    const key = createHash('sha256').update(token).digest('base64url');
    const known = this.verified.get(key);
    if (known) {
      if (known.expiresAt.getTime() > Date.now()) return known;
      this.verified.delete(key);
    }
    const claims = await this.verifySignature(token);
    this.verified.set(key, claims);
    if (this.verified.size > MAX_VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value as string);
    return claims;
  }

  private async verifySignature(token: string): Promise<AccessClaims> {
    try {
      const keys = this.keysFor(token);
      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'] | undefined;
      for (const [i, key] of keys.entries()) {
        try {
          ({ payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] }));
          break;
        } catch (err) {
          // a kid-less token: a bad signature under one key may be good under the next
          if (!(err instanceof joseErrors.JWSSignatureVerificationFailed) || i === keys.length - 1) throw err;
        }
      }
      if (!payload) throw unauthenticated('Invalid access token.');
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.exp !== 'number') {
        throw unauthenticated('Invalid access token.');
      }
      return { userId: payload.sub, sessionId: payload.sid, expiresAt: new Date(payload.exp * 1000) };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('Access token expired; refresh the session.');
      if (err instanceof joseErrors.JOSEError) throw unauthenticated('Invalid access token.');
      throw err;
    }
  }
}

// Sign-in challenges (two-factor): proof that a password was right, waiting for the second
// factor. Their key is derived from JWT_SECRET for this use alone, and they carry a `typ` and
// an audience of their own, so a challenge never passes for an access token nor an access
// token for a challenge.
const CHALLENGE_TYP = 'two-factor-challenge+jwt';
const CHALLENGE_AUDIENCE = 'chat-backend:two-factor-login';

export interface ChallengeClaims {
  userId: string;
  /** a digest of the password hash it was issued for: a password change voids the challenge */
  passwordStamp: string;
}

export class LoginChallenges {
  private readonly key: Uint8Array;

  constructor(
    jwtSecret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new Uint8Array(hkdfSync('sha256', jwtSecret, '', 'chat-backend two-factor challenge', 32));
  }

  async issue(userId: string, passwordStamp: string): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({ pwd: passwordStamp })
      .setProtectedHeader({ alg: 'HS256', typ: CHALLENGE_TYP })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(CHALLENGE_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** The claims of a challenge this service issued and that has not expired; else UNAUTHENTICATED. */
  async verify(token: string): Promise<ChallengeClaims> {
    try {
      const { payload } = await jwtVerify(String(token ?? ''), this.key, {
        issuer: ISSUER,
        audience: CHALLENGE_AUDIENCE,
        typ: CHALLENGE_TYP,
        algorithms: ['HS256'],
      });
      if (typeof payload.sub !== 'string' || typeof payload.pwd !== 'string') throw unauthenticated('Invalid sign-in challenge.');
      return { userId: payload.sub, passwordStamp: payload.pwd };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('The sign-in challenge expired; sign in again.');
      if (err instanceof joseErrors.JOSEError) throw unauthenticated('Invalid sign-in challenge.');
      throw err;
    }
  }
}

/** Extracts the token of an `Authorization: Bearer <token>` value; undefined when absent. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('Authorization must be "Bearer <accessToken>".');
  return match[1];
}
