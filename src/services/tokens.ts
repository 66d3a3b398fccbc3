// Access tokens: short-lived HS256 JWTs carrying the user (sub) and the login session (sid).
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { unauthenticated } from './errors.js';

const ISSUER = 'chat-backend';

export interface AccessClaims {
  userId: string;
  sessionId: string;
  expiresAt: Date;
}

export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async sign(userId: string, sessionId: string): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** Verifies a token; throws UNAUTHENTICATED with a reason a client can act on. */
  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
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

/** Extracts the token of an `Authorization: Bearer <token>` value; undefined when absent. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('Authorization must be "Bearer <accessToken>".');
  return match[1];
}
