// Two-factor authentication as a user with an authenticator app lives it: enrolment, the
// two-step sign-in, replayed and wrong codes, recovery codes, turning it off, and the limits.
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { Authenticator, STEP_MS } from '../support/authenticator.js';
import { Client, PASSWORD, clientWithToken, createGuild, failsOnField, invite, signIn, signUp } from '../support/client.js';

const BEGIN = `mutation($password: String!) { beginTwoFactorEnrollment(password: $password) { secret provisioningUri } }`;
const CONFIRM = `mutation($code: String!) {
  confirmTwoFactorEnrollment(code: $code) { recoveryCodes user { id twoFactorEnabled } }
}`;
const DISABLE = `mutation($code: String!) { disableTwoFactor(code: $code) { id twoFactorEnabled } }`;
const REGENERATE = `mutation($code: String!) { regenerateRecoveryCodes(code: $code) { recoveryCodes } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id } } }`;
const COMPLETE = `mutation($challenge: String!, $code: String!) {
  completeTwoFactorLogin(challengeToken: $challenge, code: $code) { accessToken refreshToken user { id twoFactorEnabled } }
}`;
const VIEWER = `{ viewer { id twoFactorEnabled } }`;

let server: TestServer;
let anonymous: Client;

beforeAll(async () => {
  server = await startTestServer();
  anonymous = new Client(server.graphqlUrl);
});
afterAll(() => server?.stop());

async function beginEnrollment(user: Client) {
  return (await user.ok<{ beginTwoFactorEnrollment: { secret: string; provisioningUri: string } }>(BEGIN, { password: PASSWORD }))
    .beginTwoFactorEnrollment;
}

/** A fresh user with two-factor on: their client, authenticator and recovery codes. */
async function enrolledUser(on = server) {
  const user = await signUp(on.graphqlUrl);
  const authenticator = new Authenticator((await beginEnrollment(user)).secret);
  const { confirmTwoFactorEnrollment } = await user.ok<{ confirmTwoFactorEnrollment: { recoveryCodes: string[] } }>(CONFIRM, {
    code: await authenticator.nextCode(),
  });
  return { user, authenticator, recoveryCodes: confirmTwoFactorEnrollment.recoveryCodes };
}

/** The first step of signing in, which must ask for the second: its error's extensions. */
async function challengeFor(user: Client, on = server) {
  const res = await new Client(on.graphqlUrl).request(LOGIN, { input: { login: user.username, password: PASSWORD } });
  expect(res.data, 'no session before the second factor').toBeNull();
  const error = res.errors?.[0];
  expect(error?.extensions?.code, JSON.stringify(res)).toBe('TWO_FACTOR_REQUIRED');
  return error!.extensions as { challengeToken: string; challengeExpiresAt: string };
}

async function complete(challenge: string, code: string) {
  return (await anonymous.ok<{ completeTwoFactorLogin: any }>(COMPLETE, { challenge, code })).completeTwoFactorLogin;
}

describe('enrolment', () => {
  it('asks for the password again', async () => {
    const user = await signUp(server.graphqlUrl);
    await failsOnField(user, 'password', BEGIN, { password: `${PASSWORD}!` });
    await anonymous.fails('UNAUTHENTICATED', BEGIN, { password: PASSWORD });
  });

  it('gives a secret and a provisioning URI naming the product and the account, and turns nothing on yet', async () => {
    const user = await signUp(server.graphqlUrl);
    const { secret, provisioningUri } = await beginEnrollment(user);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits in base32
    const uri = OTPAuth.URI.parse(provisioningUri) as OTPAuth.TOTP;
    expect(provisioningUri).toMatch(/^otpauth:\/\/totp\//);
    expect(uri).toMatchObject({ issuer: 'Chat', label: user.username, digits: 6, period: 30, algorithm: 'SHA1' });
    expect(uri.secret.base32).toBe(secret);
    expect((await user.ok<{ viewer: any }>(VIEWER)).viewer.twoFactorEnabled).toBe(false);
    // signing in still takes the password alone
    await signIn(server.graphqlUrl, user.username!);
  });

  it('is confirmed only by a code of the new secret, and answers ten different recovery codes', async () => {
    const user = await signUp(server.graphqlUrl);
    await user.fails('CONFLICT', CONFIRM, { code: '123456' }); // nothing begun
    const authenticator = new Authenticator((await beginEnrollment(user)).secret);
    const stranger = new Authenticator(new OTPAuth.Secret().base32);
    await failsOnField(user, 'code', CONFIRM, { code: await stranger.nextCode() });
    const { confirmTwoFactorEnrollment } = await user.ok<{ confirmTwoFactorEnrollment: any }>(CONFIRM, {
      code: await authenticator.nextCode(),
    });
    expect(confirmTwoFactorEnrollment.user).toEqual({ id: user.userId, twoFactorEnabled: true });
    const codes: string[] = confirmTwoFactorEnrollment.recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
    expect((await user.ok<{ viewer: any }>(VIEWER)).viewer.twoFactorEnabled).toBe(true);
  });

  it('only the latest of two begun enrolments can be confirmed', async () => {
    const user = await signUp(server.graphqlUrl);
    const first = new Authenticator((await beginEnrollment(user)).secret);
    const second = new Authenticator((await beginEnrollment(user)).secret);
    await failsOnField(user, 'code', CONFIRM, { code: await first.nextCode() });
    await user.ok(CONFIRM, { code: await second.nextCode() });
  });

  it('cannot begin again while two-factor is on', async () => {
    const { user } = await enrolledUser();
    await user.fails('CONFLICT', BEGIN, { password: PASSWORD });
  });

  it('keeps neither the secret nor the recovery codes readable in the database', async () => {
    const user = await signUp(server.graphqlUrl);
    const { secret } = await beginEnrollment(user);
    const authenticator = new Authenticator(secret);
    const { confirmTwoFactorEnrollment } = await user.ok<{ confirmTwoFactorEnrollment: { recoveryCodes: string[] } }>(CONFIRM, {
      code: await authenticator.nextCode(),
    });
    const db = server.app.db.prisma;
    const id = Buffer.from(user.userId!, 'base64').toString().split(':')[1]!;
    const dump = JSON.stringify([await db.user.findUnique({ where: { id } }), await db.recoveryCode.findMany({ where: { userId: id } })]);
    const bytes = OTPAuth.Secret.fromBase32(secret).bytes;
    for (const form of [secret, secret.toLowerCase(), Buffer.from(bytes).toString('hex'), Buffer.from(bytes).toString('base64')]) {
      expect(dump).not.toContain(form);
    }
    for (const code of confirmTwoFactorEnrollment.recoveryCodes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace(/-/g, ''));
    }
  });
});

describe('twoFactorEnabled', () => {
  it('is visible to the user alone', async () => {
    const { user } = await enrolledUser();
    const guildmate = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(user);
    await invite(user, guildId, guildmate);
    const query = `query($u: ID!) { user(id: $u) { twoFactorEnabled } }`;
    expect((await guildmate.ok<{ user: any }>(query, { u: user.userId })).user.twoFactorEnabled).toBeNull();
    expect((await user.ok<{ user: any }>(query, { u: user.userId })).user.twoFactorEnabled).toBe(true);
    expect((await guildmate.ok<{ user: any }>(query, { u: guildmate.userId })).user.twoFactorEnabled).toBe(false);
  });
});

describe('signing in with two-factor on', () => {
  it('takes two steps: the password answers a challenge, the challenge and a code answer the session', async () => {
    const { user, authenticator } = await enrolledUser();
    const challenge = await challengeFor(user);
    const expiresIn = new Date(challenge.challengeExpiresAt).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(4 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(5 * 60_000);
    const session = await complete(challenge.challengeToken, await authenticator.nextCode());
    expect(session.user).toEqual({ id: user.userId, twoFactorEnabled: true });
    expect((await clientWithToken(server.graphqlUrl, session.accessToken).ok<{ viewer: any }>(VIEWER)).viewer.id).toBe(user.userId);
    await anonymous.ok(`mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, { t: session.refreshToken });
  });

  it('refuses a wrong password as before, without a challenge', async () => {
    const { user } = await enrolledUser();
    await anonymous.fails('UNAUTHENTICATED', LOGIN, { input: { login: user.username, password: `${PASSWORD}!` } });
  });

  it('refuses a wrong code, and the challenge stays good for the right one', async () => {
    const { user, authenticator } = await enrolledUser();
    const { challengeToken } = await challengeFor(user);
    const wrong = authenticator.codeOfStep(Math.floor(Date.now() / STEP_MS) - 10);
    await failsOnField(anonymous, 'code', COMPLETE, { challenge: challengeToken, code: wrong });
    await failsOnField(anonymous, 'code', COMPLETE, { challenge: challengeToken, code: 'not a code' });
    await complete(challengeToken, await authenticator.nextCode());
  });

  it('takes no code twice, nor a code of an earlier step than one it took', async () => {
    const { user, authenticator } = await enrolledUser();
    const step = await authenticator.currentStep();
    await complete((await challengeFor(user)).challengeToken, authenticator.codeOfStep(step + 1));
    // the same code again, on a new challenge: a replay
    await failsOnField(anonymous, 'code', COMPLETE, {
      challenge: (await challengeFor(user)).challengeToken,
      code: authenticator.codeOfStep(step + 1),
    });
    // still within the window, but older than the code taken
    await failsOnField(anonymous, 'code', COMPLETE, {
      challenge: (await challengeFor(user)).challengeToken,
      code: authenticator.codeOfStep(step),
    });
  });

  it('accepts a code of one step before or after the current one, not of two', async () => {
    const user = await signUp(server.graphqlUrl);
    const authenticator = new Authenticator((await beginEnrollment(user)).secret);
    // a wide margin: the four codes below must all be checked within this one step
    const step = await authenticator.currentStep(10_000);
    await failsOnField(user, 'code', CONFIRM, { code: authenticator.codeOfStep(step - 2) });
    await failsOnField(user, 'code', CONFIRM, { code: authenticator.codeOfStep(step + 2) });
    await user.ok(CONFIRM, { code: authenticator.codeOfStep(step - 1) });
    await complete((await challengeFor(user)).challengeToken, authenticator.codeOfStep(step + 1));
  });

  it('accepts each recovery code once, typed in any case and without dashes', async () => {
    const { user, recoveryCodes } = await enrolledUser();
    const [first, second] = recoveryCodes as [string, string];
    const session = await complete((await challengeFor(user)).challengeToken, first.toUpperCase().replace(/-/g, ''));
    expect(session.user.id).toBe(user.userId);
    await failsOnField(anonymous, 'code', COMPLETE, { challenge: (await challengeFor(user)).challengeToken, code: first });
    await complete((await challengeFor(user)).challengeToken, second);
  });

  it('a password change voids a pending challenge', async () => {
    const { user, authenticator } = await enrolledUser();
    const { challengeToken } = await challengeFor(user);
    await user.ok(`mutation { changePassword(currentPassword: "${PASSWORD}", newPassword: "${PASSWORD} 2") }`);
    await anonymous.fails('UNAUTHENTICATED', COMPLETE, { challenge: challengeToken, code: await authenticator.nextCode() });
  });
});

describe('challenge tokens', () => {
  it('are no access tokens, and access or refresh tokens are no challenges', async () => {
    const { user, authenticator } = await enrolledUser();
    const { challengeToken } = await challengeFor(user);
    const asAccess = await clientWithToken(server.graphqlUrl, challengeToken).fails('UNAUTHENTICATED', VIEWER);
    expect(asAccess.message).toMatch(/invalid access token/i);
    const code = await authenticator.nextCode();
    for (const token of [user.token!, user.refreshToken!, `${challengeToken}x`, 'nonsense']) {
      await anonymous.fails('UNAUTHENTICATED', COMPLETE, { challenge: token, code });
    }
    // none of those spent the code
    await complete(challengeToken, code);
  });

  it("take no code of another account's authenticator", async () => {
    const { user } = await enrolledUser();
    const other = await enrolledUser();
    await failsOnField(anonymous, 'code', COMPLETE, {
      challenge: (await challengeFor(user)).challengeToken,
      code: await other.authenticator.nextCode(),
    });
  });
});

describe('turning two-factor off and new recovery codes', () => {
  it('turns off with a code: signing in takes the password alone again', async () => {
    const { user, authenticator } = await enrolledUser();
    await failsOnField(user, 'code', DISABLE, { code: '000000' });
    const { disableTwoFactor } = await user.ok<{ disableTwoFactor: any }>(DISABLE, { code: await authenticator.nextCode() });
    expect(disableTwoFactor).toEqual({ id: user.userId, twoFactorEnabled: false });
    expect((await signIn(server.graphqlUrl, user.username!)).userId).toBe(user.userId);
    await user.fails('CONFLICT', DISABLE, { code: await authenticator.nextCode() });
  });

  it('turns off with a recovery code, and the recovery codes go with it', async () => {
    const { user, recoveryCodes } = await enrolledUser();
    await user.ok(DISABLE, { code: recoveryCodes[0] });
    const again = new Authenticator((await beginEnrollment(user)).secret);
    await user.ok(CONFIRM, { code: await again.nextCode() });
    await failsOnField(anonymous, 'code', COMPLETE, { challenge: (await challengeFor(user)).challengeToken, code: recoveryCodes[1] });
  });

  it('regenerates recovery codes: the old ones stop working, the new ones work', async () => {
    const { user, authenticator, recoveryCodes } = await enrolledUser();
    await failsOnField(user, 'code', REGENERATE, { code: 'aaaa-bbbb-cccc-dddd' });
    const { regenerateRecoveryCodes } = await user.ok<{ regenerateRecoveryCodes: { recoveryCodes: string[] } }>(REGENERATE, {
      code: await authenticator.nextCode(),
    });
    expect(regenerateRecoveryCodes.recoveryCodes).toHaveLength(10);
    expect(regenerateRecoveryCodes.recoveryCodes.some((c) => recoveryCodes.includes(c))).toBe(false);
    await failsOnField(anonymous, 'code', COMPLETE, { challenge: (await challengeFor(user)).challengeToken, code: recoveryCodes[0] });
    await complete((await challengeFor(user)).challengeToken, regenerateRecoveryCodes.recoveryCodes[0]!);
  });

  it('are refused to an anonymous caller', async () => {
    await anonymous.fails('UNAUTHENTICATED', DISABLE, { code: '123456' });
    await anonymous.fails('UNAUTHENTICATED', REGENERATE, { code: '123456' });
    await anonymous.fails('UNAUTHENTICATED', CONFIRM, { code: '123456' });
  });
});

describe('rate limit', () => {
  it('limits wrong codes to 5 per account by default, across challenges, with the time to wait; other accounts are not affected', async () => {
    const { user, authenticator } = await enrolledUser();
    const other = await enrolledUser();
    const client = new Client(server.graphqlUrl);
    for (let i = 0; i < 5; i++) {
      // a new challenge each time: the count is the account's, not the challenge's
      await failsOnField(client, 'code', COMPLETE, { challenge: (await challengeFor(user)).challengeToken, code: '000000' });
    }
    const limited = await client.fails('RATE_LIMITED', COMPLETE, {
      challenge: (await challengeFor(user)).challengeToken,
      code: await authenticator.nextCode(),
    });
    expect(limited.extensions?.retryAfterMs).toBeGreaterThan(0);
    // the signed-in operations that take a code count on the same account
    await user.fails('RATE_LIMITED', REGENERATE, { code: await authenticator.nextCode() });
    const { challengeToken } = await challengeFor(other.user);
    await new Client(server.graphqlUrl).ok(COMPLETE, { challenge: challengeToken, code: await other.authenticator.nextCode() });
  });
});

describe('with short challenges and another issuer', () => {
  let tight: TestServer;
  beforeAll(async () => {
    tight = await startTestServer({
      env: { TWO_FACTOR_CHALLENGE_TTL_SECONDS: '1', TOTP_ISSUER: 'Acme Chat' },
    });
  });
  afterAll(() => tight?.stop());

  it('names the configured issuer in the provisioning URI', async () => {
    const user = await signUp(tight.graphqlUrl);
    const { provisioningUri } = await beginEnrollment(user);
    expect(OTPAuth.URI.parse(provisioningUri).issuer).toBe('Acme Chat');
  });

  it('refuses a challenge once it expired', async () => {
    const { user, authenticator } = await enrolledUser(tight);
    const { challengeToken, challengeExpiresAt } = await challengeFor(user, tight);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, new Date(challengeExpiresAt).getTime() - Date.now()) + 20));
    const error = await new Client(tight.graphqlUrl).fails('UNAUTHENTICATED', COMPLETE, {
      challenge: challengeToken,
      code: await authenticator.nextCode(),
    });
    expect(error.message).toMatch(/expired/);
  });
});
