// TOTP secrets at rest across a change of key: sealed with a key derived from JWT_SECRET by
// default, still opened once TOTP_ENCRYPTION_KEY is set, and sealed again with it on use, so
// the JWT secret can be rotated away afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, instancesOnOneDatabase } from '../support/app.js';
import { Authenticator } from '../support/authenticator.js';
import { Client, PASSWORD, signUp } from '../support/client.js';

const JWT_A = 'jwt-secret-a-jwt-secret-a-jwt-secret-a-0123';
const JWT_B = 'jwt-secret-b-jwt-secret-b-jwt-secret-b-0123';
const TOTP_KEY = 'totp-key-totp-key-totp-key-totp-key-0123456';

const { instance, done, close } = instancesOnOneDatabase('chat-totp-keys-');
afterAll(close);

/** Signs in with the password and a code on `server`; the user id of the session. */
async function signInWithCode(server: TestServer, username: string, code: string): Promise<string> {
  const client = new Client(server.graphqlUrl);
  const login = await client.request(`mutation($input: LoginInput!) { login(input: $input) { accessToken } }`, {
    input: { login: username, password: PASSWORD },
  });
  expect(login.errors?.[0]?.extensions?.code, JSON.stringify(login)).toBe('TWO_FACTOR_REQUIRED');
  const { completeTwoFactorLogin } = await client.ok<{ completeTwoFactorLogin: { user: { id: string } } }>(
    `mutation($t: String!, $c: String!) { completeTwoFactorLogin(challengeToken: $t, code: $c) { user { id } } }`,
    { t: login.errors![0]!.extensions!.challengeToken, c: code },
  );
  return completeTwoFactorLogin.user.id;
}

describe('TOTP secrets across a change of key', () => {
  let user: Client;
  let authenticator: Authenticator;

  beforeAll(async () => {
    const before = await instance({ JWT_SECRET: JWT_A });
    try {
      user = await signUp(before.graphqlUrl);
      const { beginTwoFactorEnrollment } = await user.ok<{ beginTwoFactorEnrollment: { secret: string } }>(
        `mutation($p: String!) { beginTwoFactorEnrollment(password: $p) { secret } }`,
        { p: PASSWORD },
      );
      authenticator = new Authenticator(beginTwoFactorEnrollment.secret);
      await user.ok(`mutation($c: String!) { confirmTwoFactorEnrollment(code: $c) { recoveryCodes } }`, {
        c: await authenticator.nextCode(),
      });
    } finally {
      await done(before);
    }
  });

  it('open with the JWT secret once TOTP_ENCRYPTION_KEY is set, and with the new key alone after their next use', async () => {
    const withKey = await instance({ JWT_SECRET: JWT_A, TOTP_ENCRYPTION_KEY: TOTP_KEY });
    try {
      expect(await signInWithCode(withKey, user.username!, await authenticator.nextCode())).toBe(user.userId);
    } finally {
      await done(withKey);
    }
    // the JWT secret that first sealed it is gone: only TOTP_ENCRYPTION_KEY can open it now
    const rotated = await instance({ JWT_SECRET: JWT_B, TOTP_ENCRYPTION_KEY: TOTP_KEY });
    try {
      expect(await signInWithCode(rotated, user.username!, await authenticator.nextCode())).toBe(user.userId);
    } finally {
      await done(rotated);
    }
  });
});
