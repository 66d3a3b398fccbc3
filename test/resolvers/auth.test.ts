// register, login, refreshSession, logout, and how tokens are accepted or refused.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import {
  Client,
  PASSWORD,
  clientWithToken,
  createGuild,
  failsOnField,
  localId,
  signIn,
  signUp,
  uniqueName,
  unknownId,
} from '../support/client.js';

const REGISTER = `mutation($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id username displayName email } }
}`;
const LOGIN = `mutation($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id username email } }
}`;
const REFRESH = `mutation($t: String!) {
  refreshSession(refreshToken: $t) { accessToken refreshToken accessTokenExpiresAt user { id email } }
}`;
const LOGOUT = `mutation($t: String!) { logout(refreshToken: $t) }`;
const VIEWER = `{ viewer { id username email } }`;

let server: TestServer;
let anonymous: Client;

beforeAll(async () => {
  // no grace window: a rotated token is spent at once (the window has tests of its own below)
  server = await startTestServer({ env: { REFRESH_GRACE_MS: '0' } });
  anonymous = new Client(server.graphqlUrl);
});
afterAll(async () => {
  await server.stop();
});

const registration = (overrides: Record<string, unknown> = {}) => {
  const name = uniqueName();
  return { username: name, email: `${name}@example.com`, password: PASSWORD, ...overrides };
};

/** The viewer as seen with `token`: the user's id, or the refusal's code. */
async function viewerWith(token: string): Promise<{ id?: string; code?: string; message?: string }> {
  const res = await clientWithToken(server.graphqlUrl, token).request(VIEWER);
  if (res.errors) return { code: res.errors[0]?.extensions?.code, message: res.errors[0]?.message };
  return { id: res.data?.viewer?.id };
}

async function refresh(refreshToken: string) {
  return (await anonymous.ok<{ refreshSession: any }>(REFRESH, { t: refreshToken })).refreshSession;
}

describe('register', () => {
  it('creates the account and signs it in, showing the user their own email', async () => {
    const input = registration({ displayName: 'Ada Lovelace' });
    const { register } = await anonymous.ok<{ register: any }>(REGISTER, { input });
    expect(register.user).toMatchObject({ username: input.username, displayName: 'Ada Lovelace', email: input.email });
    expect(register.refreshToken).toEqual(expect.any(String));
    expect(new Date(register.accessTokenExpiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(await viewerWith(register.accessToken)).toEqual({ id: register.user.id });
  });

  it('uses the username as display name when none is given', async () => {
    const input = registration();
    const { register } = await anonymous.ok<{ register: any }>(REGISTER, { input });
    expect(register.user.displayName).toBe(input.username);
  });

  it('accepts usernames of 2 and 32 characters made of letters, digits, "_", "." and "-"', async () => {
    for (const username of ['ab', 'A_b.c-9'.padEnd(32, 'x')]) {
      const { register } = await anonymous.ok<{ register: any }>(REGISTER, { input: registration({ username }) });
      expect(register.user.username).toBe(username);
    }
  });

  it.each([
    ['one character', 'a'],
    ['33 characters', 'a'.repeat(33)],
    ['a space', 'ada lovelace'],
    ['an @', 'ada@home'],
    ['a non-ASCII letter', 'adé'],
    ['nothing', ''],
  ])('refuses a username of %s', async (_label, username) => {
    await failsOnField(anonymous, 'username', REGISTER, { input: registration({ username }) });
  });

  it.each(['not-an-email', 'ada@', '@example.com', 'ada example@example.com'])('refuses the email %j', async (email) => {
    await failsOnField(anonymous, 'email', REGISTER, { input: registration({ email }) });
  });

  it('refuses a password shorter than 8 characters and accepts one of 8', async () => {
    await failsOnField(anonymous, 'password', REGISTER, { input: registration({ password: '1234567' }) });
    await anonymous.ok(REGISTER, { input: registration({ password: '12345678' }) });
  });

  it('refuses a username taken by someone else, whatever its case', async () => {
    const first = registration({ username: uniqueName('Taken') });
    await anonymous.ok(REGISTER, { input: first });
    const error = await anonymous.fails('CONFLICT', REGISTER, {
      input: registration({ username: first.username.toLowerCase() }),
    });
    expect(error.message).toMatch(/username/i);
  });

  it('of two simultaneous registrations of one username, exactly one wins; the other is CONFLICT', async () => {
    const username = uniqueName('race');
    const results = await Promise.all(
      ['one', 'two'].map((n) => anonymous.request(REGISTER, { input: registration({ username, email: `${username}.${n}@example.com` }) })),
    );
    const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['CONFLICT', 'OK']);
  });

  it('refuses an email that already has an account, whatever its case', async () => {
    const first = registration();
    await anonymous.ok(REGISTER, { input: first });
    await anonymous.fails('CONFLICT', REGISTER, { input: registration({ email: first.email.toUpperCase() }) });
  });
});

describe('login', () => {
  it('signs in by username and by email, each a session of its own', async () => {
    const user = await signUp(server.graphqlUrl);
    const byName = await signIn(server.graphqlUrl, user.username!);
    const byEmail = await signIn(server.graphqlUrl, `${user.username}@example.com`);
    expect(byName.userId).toBe(user.userId);
    expect(byEmail.userId).toBe(user.userId);
    expect(byName.refreshToken).not.toBe(byEmail.refreshToken);
    expect(await viewerWith(byName.token!)).toEqual({ id: user.userId });
    expect(await viewerWith(byEmail.token!)).toEqual({ id: user.userId });
  });

  it('ignores the case of the username and the email', async () => {
    const user = await signUp(server.graphqlUrl, uniqueName('Grace'));
    expect((await signIn(server.graphqlUrl, user.username!.toUpperCase())).userId).toBe(user.userId);
    expect((await signIn(server.graphqlUrl, `${user.username}@EXAMPLE.com`)).userId).toBe(user.userId);
  });

  it('refuses a wrong password, and an unknown login the same way', async () => {
    const user = await signUp(server.graphqlUrl);
    const wrongPassword = await anonymous.fails('UNAUTHENTICATED', LOGIN, {
      input: { login: user.username, password: `${PASSWORD}!` },
    });
    const unknownUser = await anonymous.fails('UNAUTHENTICATED', LOGIN, {
      input: { login: uniqueName('nobody'), password: PASSWORD },
    });
    // the answer does not tell whether the account exists
    expect(unknownUser.message).toBe(wrongPassword.message);
  });

  it('refuses a login no account can have (a NUL character) the same way', async () => {
    const unknownUser = await anonymous.fails('UNAUTHENTICATED', LOGIN, { input: { login: 'nobody', password: PASSWORD } });
    const impossible = await anonymous.fails('UNAUTHENTICATED', LOGIN, { input: { login: 'nul\u0000byte', password: PASSWORD } });
    expect(impossible.message).toBe(unknownUser.message);
  });
});

describe('access tokens', () => {
  it('viewer is null for an anonymous caller', async () => {
    expect(await anonymous.request(VIEWER)).toEqual({ data: { viewer: null } });
  });

  it.each([
    ['a malformed token', 'Bearer not-a-jwt'],
    ['a header that is not "Bearer <token>"', 'Token abc'],
  ])('refuses %s with UNAUTHENTICATED', async (_label, authorization) => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: VIEWER }),
    });
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe('UNAUTHENTICATED');
  });

  it('refuses a token signed with another secret', async () => {
    const user = await signUp(server.graphqlUrl);
    const forged = await new SignJWT({ sid: 'whatever' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.userId!)
      .setIssuer('chat-backend')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    expect((await viewerWith(forged)).code).toBe('UNAUTHENTICATED');
  });

  it('refuses a well-signed token whose session never existed, belongs to someone else, or whose user does not exist', async () => {
    const user = await signUp(server.graphqlUrl);
    const other = await signUp(server.graphqlUrl);
    const { sid } = JSON.parse(Buffer.from(other.token!.split('.')[1]!, 'base64url').toString()) as { sid: string };
    const sign = (sub: string, session: string) =>
      new SignJWT({ sid: session })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(sub)
        .setIssuer('chat-backend')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('test-secret-test-secret-test-secret-0123'));
    // the test server's own secret signs all three: only the session decides
    expect(await viewerWith(await sign(localId(other.userId!), sid))).toEqual({ id: other.userId });
    for (const token of [
      await sign(localId(user.userId!), '01ARZ3NDEKTSV4RRFFQ69G5FAV'),
      await sign(localId(user.userId!), sid),
      await sign('01ARZ3NDEKTSV4RRFFQ69G5FAV', sid),
    ]) {
      expect((await viewerWith(token)).code).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses an expired token with a message about expiry, and the session still refreshes', async () => {
    // Expiry is in whole seconds: a 2 s token lives at least 1 s, time enough to use it once.
    const shortLived = await startTestServer({ env: { ACCESS_TOKEN_TTL_SECONDS: '2' } });
    try {
      const client = new Client(shortLived.graphqlUrl);
      const { register } = await client.ok<{ register: any }>(REGISTER, { input: registration() });
      client.token = register.accessToken;
      expect((await client.ok(VIEWER)).viewer.id).toBe(register.user.id);

      const expiresAt = new Date(register.accessTokenExpiresAt).getTime();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 1));

      const error = await client.fails('UNAUTHENTICATED', VIEWER);
      expect(error.message).toMatch(/expired/i);
      await client.fails('UNAUTHENTICATED', `{ guilds { totalCount } }`);

      const { refreshSession } = await client.ok<{ refreshSession: any }>(REFRESH, { t: register.refreshToken });
      client.token = refreshSession.accessToken;
      expect((await client.ok(VIEWER)).viewer.id).toBe(register.user.id);
    } finally {
      await shortLived.stop();
    }
  });
});

describe('refreshSession', () => {
  it('rotates: the new tokens work and the old refresh token is refused', async () => {
    const user = await signUp(server.graphqlUrl);
    const next = await refresh(user.refreshToken!);
    expect(next.refreshToken).not.toBe(user.refreshToken);
    expect(next.user).toEqual({ id: user.userId, email: `${user.username}@example.com` });
    expect(await viewerWith(next.accessToken)).toEqual({ id: user.userId });

    const again = await refresh(next.refreshToken);
    expect(await viewerWith(again.accessToken)).toEqual({ id: user.userId });

    await anonymous.fails('UNAUTHENTICATED', REFRESH, { t: user.refreshToken });
  });

  it('reusing a rotated refresh token revokes the whole session, and only that session', async () => {
    const user = await signUp(server.graphqlUrl);
    const otherDevice = await signIn(server.graphqlUrl, user.username!);
    const rotated = await refresh(user.refreshToken!);

    // someone replays the token that was already rotated
    await anonymous.fails('UNAUTHENTICATED', REFRESH, { t: user.refreshToken });

    // the newest refresh token and the session's access tokens are dead too
    await anonymous.fails('UNAUTHENTICATED', REFRESH, { t: rotated.refreshToken });
    expect((await viewerWith(rotated.accessToken)).code).toBe('UNAUTHENTICATED');
    expect((await viewerWith(user.token!)).code).toBe('UNAUTHENTICATED');

    // another login of the same user is untouched
    expect(await viewerWith(otherDevice.token!)).toEqual({ id: user.userId });
    expect((await refresh(otherDevice.refreshToken!)).user.id).toBe(user.userId);
  });

  it('without a grace window, of two simultaneous refreshes with one token at most one wins, and the session is revoked', async () => {
    const user = await signUp(server.graphqlUrl);
    const results = await Promise.all([1, 2].map(() => anonymous.request<{ refreshSession: any }>(REFRESH, { t: user.refreshToken })));
    const winners = results.filter((r) => !r.errors);
    expect(winners.length).toBeLessThanOrEqual(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // a replayed token looks like theft: the session that rotated it is revoked as well
    for (const winner of winners) {
      await anonymous.fails('UNAUTHENTICATED', REFRESH, { t: winner.data!.refreshSession.refreshToken });
    }
    expect((await viewerWith(user.token!)).code).toBe('UNAUTHENTICATED');
  });

  it('refuses a refresh token it never issued', async () => {
    await anonymous.fails('UNAUTHENTICATED', REFRESH, { t: 'made-up-refresh-token' });
  });
});

describe('logout', () => {
  it('revokes the session: its refresh and access tokens are refused, other sessions live on', async () => {
    const user = await signUp(server.graphqlUrl);
    const otherDevice = await signIn(server.graphqlUrl, user.username!);

    expect(await anonymous.ok(LOGOUT, { t: user.refreshToken })).toEqual({ logout: true });

    await anonymous.fails('UNAUTHENTICATED', REFRESH, { t: user.refreshToken });
    expect((await viewerWith(user.token!)).code).toBe('UNAUTHENTICATED');
    await user.fails('UNAUTHENTICATED', `mutation { createGuild(input: { name: "After logout" }) { id } }`);

    expect(await viewerWith(otherDevice.token!)).toEqual({ id: user.userId });
  });
});

describe('anonymous callers', () => {
  const protectedOperations: [string, string][] = [
    ['guilds', `{ guilds { totalCount } }`],
    ['guild', `{ guild(id: "${unknownId('Guild')}") { id } }`],
    ['channel', `{ channel(id: "${unknownId('Channel')}") { id } }`],
    ['message', `{ message(id: "${unknownId('Message')}") { id } }`],
    ['user', `{ user(id: "${unknownId('User')}") { id } }`],
    ['users', `{ users(search: "a") { totalCount } }`],
    ['node', `{ node(id: "${unknownId('Guild')}") { id } }`],
    ['createGuild', `mutation { createGuild(input: { name: "G" }) { id } }`],
    ['deleteGuild', `mutation { deleteGuild(id: "${unknownId('Guild')}") }`],
    ['joinGuild', `mutation { joinGuild(inviteCode: "abcdefghjk") { id } }`],
    ['leaveGuild', `mutation { leaveGuild(guildId: "${unknownId('Guild')}") }`],
    ['createInvite', `mutation { createInvite(guildId: "${unknownId('Guild')}") { code } }`],
    ['createChannel', `mutation { createChannel(input: { guildId: "${unknownId('Guild')}", name: "c" }) { id } }`],
    ['deleteChannel', `mutation { deleteChannel(id: "${unknownId('Channel')}") }`],
    ['sendMessage', `mutation { sendMessage(input: { channelId: "${unknownId('Channel')}", content: "hi" }) { id } }`],
    ['editMessage', `mutation { editMessage(id: "${unknownId('Message')}", content: "hi") { id } }`],
    ['deleteMessage', `mutation { deleteMessage(id: "${unknownId('Message')}") }`],
  ];

  it.each(protectedOperations)('are refused %s with UNAUTHENTICATED', async (_name, query) => {
    await anonymous.fails('UNAUTHENTICATED', query);
  });

  it('are refused even for an object that exists', async () => {
    const owner = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(owner, 'Public', true);
    await anonymous.fails('UNAUTHENTICATED', `query($id: ID!) { guild(id: $id) { id } }`, { id: guildId });
  });
});

describe('refreshSession from several tabs at once', () => {
  let graceful: TestServer;
  const GRACE_MS = 1_500;
  beforeAll(async () => {
    graceful = await startTestServer({ env: { REFRESH_GRACE_MS: String(GRACE_MS) } });
  });
  afterAll(() => graceful?.stop());

  const refreshOn = (token: string) =>
    new Client(graceful.graphqlUrl).request<{ refreshSession: { accessToken: string; refreshToken: string } }>(REFRESH, { t: token });

  it('gives every tab refreshing with the same token the same new pair, and keeps the session', async () => {
    const user = await signUp(graceful.graphqlUrl);
    const answers = await Promise.all(Array.from({ length: 10 }, () => refreshOn(user.refreshToken!)));
    for (const a of answers) expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
    const pairs = new Set(answers.map((a) => `${a.data!.refreshSession.accessToken} ${a.data!.refreshSession.refreshToken}`));
    expect(pairs.size).toBe(1);
    const next = answers[0]!.data!.refreshSession;
    const client = clientWithToken(graceful.graphqlUrl, next.accessToken);
    expect((await client.ok(VIEWER)).viewer.id).toBe(user.userId);
    // and the session goes on rotating
    const after = await refreshOn(next.refreshToken);
    expect(after.errors).toBeUndefined();
  });

  it('answers a rotated token again within the window, and takes it for theft after', async () => {
    const user = await signUp(graceful.graphqlUrl);
    const first = (await refreshOn(user.refreshToken!)).data!.refreshSession;
    const again = (await refreshOn(user.refreshToken!)).data!.refreshSession;
    expect(again).toEqual(first);
    // the window is configuration, not a guess: let it pass
    await new Promise((r) => setTimeout(r, GRACE_MS + 100));
    const late = await refreshOn(user.refreshToken!);
    expect(late.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const viewer = await clientWithToken(graceful.graphqlUrl, first.accessToken).request(VIEWER);
    expect(viewer.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
