// Rotating JWT_SECRET without signing everyone out: tokens name their key (kid); the new
// secret signs, the old one still verifies until it is dropped from JWT_PREVIOUS_SECRETS.
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/services/tokens.js';
import { instancesOnOneDatabase } from '../support/app.js';
import { type Client, clientWithToken, signIn, signUp } from '../support/client.js';

const OLD = 'old-secret-old-secret-old-secret-0123456789';
const NEW = 'new-secret-new-secret-new-secret-0123456789';

const { instance, done, close } = instancesOnOneDatabase('chat-rotation-');
afterAll(close);

const VIEWER = '{ viewer { id } }';

describe('JWT key rotation', () => {
  let user: Client;
  let oldToken: string;

  beforeAll(async () => {
    const before = await instance({ JWT_SECRET: OLD });
    user = await signUp(before.graphqlUrl);
    oldToken = user.token!;
    await done(before);
  });

  it('signs with a kid naming the key, never the secret', () => {
    const header = decodeProtectedHeader(oldToken);
    expect(header).toMatchObject({ alg: 'HS256', kid: keyId(OLD) });
    expect(JSON.stringify(header)).not.toContain('secret');
  });

  it('with the old secret among JWT_PREVIOUS_SECRETS: old tokens still work, new ones carry the new kid', async () => {
    const rotated = await instance({ JWT_SECRET: NEW, JWT_PREVIOUS_SECRETS: OLD });
    try {
      const old = clientWithToken(rotated.graphqlUrl, oldToken);
      expect(await old.ok(VIEWER)).toEqual({ viewer: { id: user.userId } });
      const fresh = await signIn(rotated.graphqlUrl, user.username!);
      expect(decodeProtectedHeader(fresh.token!).kid).toBe(keyId(NEW));
      expect(await fresh.ok(VIEWER)).toEqual({ viewer: { id: user.userId } });
    } finally {
      await done(rotated);
    }
  });

  it('once the old secret is dropped, its tokens are UNAUTHENTICATED; a token naming an unknown kid too', async () => {
    const after = await instance({ JWT_SECRET: NEW });
    try {
      await clientWithToken(after.graphqlUrl, oldToken).fails('UNAUTHENTICATED', VIEWER);
      const fresh = await signIn(after.graphqlUrl, user.username!);
      expect(await fresh.ok(VIEWER)).toEqual({ viewer: { id: user.userId } });
      // the new token's body under a kid nobody has
      const [, body, signature] = fresh.token!.split('.');
      const forged = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'unknown-kid' })).toString('base64url')}.${body}.${signature}`;
      await clientWithToken(after.graphqlUrl, forged).fails('UNAUTHENTICATED', VIEWER);
      // a token from before key ids existed (no kid) is tried against the keys there are
      const claims = decodeJwt(fresh.token!);
      const kidless = await new SignJWT({ sid: claims.sid })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.sub!)
        .setIssuer(claims.iss!)
        .setIssuedAt(claims.iat!)
        .setExpirationTime(claims.exp!)
        .sign(new TextEncoder().encode(NEW));
      expect(await clientWithToken(after.graphqlUrl, kidless).ok(VIEWER)).toEqual({ viewer: { id: user.userId } });
    } finally {
      await done(after);
    }
  });
});
