// changePassword and changeEmail: the password asked again, the other sessions signed out.
import type { CloseEvent } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import {
  Client,
  PASSWORD,
  createGuild,
  failsOnField,
  invite,
  localId,
  send,
  signIn,
  signUp,
  uniqueName,
} from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const CHANGE_PASSWORD = `mutation($current: String!, $next: String!) {
  changePassword(currentPassword: $current, newPassword: $next)
}`;
const CHANGE_EMAIL = `mutation($password: String!, $email: String!) {
  changeEmail(password: $password, newEmail: $email) { id email }
}`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
const REFRESH = `mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`;
const VIEWER = `{ viewer { id email } }`;
const NEW_PASSWORD = 'a different horse';

let server: TestServer;
let anonymous: Client;

beforeAll(async () => {
  server = await startTestServer();
  anonymous = new Client(server.graphqlUrl);
});
afterAll(() => server?.stop());

/** A signed-in socket of `token`: `connected` once the server acknowledged it, `closed` with its close code. */
function openSocket(token: string) {
  let onConnected!: () => void;
  let onClosed!: (code: number) => void;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  const client = wsClient(server.wsUrl, token, {
    on: { connected: () => onConnected(), closed: (e) => onClosed((e as CloseEvent).code) },
  });
  return { client, connected, closed };
}

describe('changePassword', () => {
  it('refuses a wrong current password, and the password stays', async () => {
    const user = await signUp(server.graphqlUrl);
    await failsOnField(user, 'currentPassword', CHANGE_PASSWORD, { current: `${PASSWORD}!`, next: NEW_PASSWORD });
    await signIn(server.graphqlUrl, user.username!, PASSWORD);
    await anonymous.fails('UNAUTHENTICATED', LOGIN, { input: { login: user.username, password: NEW_PASSWORD } });
  });

  it('holds the new password to the rules of register', async () => {
    const user = await signUp(server.graphqlUrl);
    await failsOnField(user, 'newPassword', CHANGE_PASSWORD, { current: PASSWORD, next: '1234567' });
    await failsOnField(user, 'newPassword', CHANGE_PASSWORD, { current: PASSWORD, next: 'x'.repeat(257) });
  });

  it('is refused to an anonymous caller', async () => {
    await anonymous.fails('UNAUTHENTICATED', CHANGE_PASSWORD, { current: PASSWORD, next: NEW_PASSWORD });
  });

  it('replaces the password: the new one signs in, the old one no longer does', async () => {
    const user = await signUp(server.graphqlUrl);
    expect(await user.ok(CHANGE_PASSWORD, { current: PASSWORD, next: NEW_PASSWORD })).toEqual({ changePassword: true });
    await anonymous.fails('UNAUTHENTICATED', LOGIN, { input: { login: user.username, password: PASSWORD } });
    expect((await signIn(server.graphqlUrl, user.username!, NEW_PASSWORD)).userId).toBe(user.userId);
  });

  it('signs out every other session (tokens refused, sockets closed with 4403) and keeps this one', async () => {
    const here = await signUp(server.graphqlUrl);
    const { generalId } = await createGuild(here);
    const phone = await signIn(server.graphqlUrl, here.username!);
    const laptop = await signIn(server.graphqlUrl, here.username!);
    const phoneSocket = openSocket(phone.token!);
    const hereSocket = openSocket(here.token!);
    const phoneMessages = subscribe(phoneSocket.client, `subscription($c: ID!) { messageAdded(channelId: $c) { id } }`, { c: generalId });
    const hereMessages = subscribe(hereSocket.client, `subscription($c: ID!) { messageAdded(channelId: $c) { content } }`, { c: generalId });
    await Promise.all([phoneSocket.connected, hereSocket.connected]);
    // graphql-ws acknowledges no subscription: wait until the server holds both
    await waitForListener(server, 'messageAdded', localId(generalId), 2);
    // both sockets subscribed before the change
    await send(here, generalId, 'before');
    await Promise.all([phoneMessages.next(), hereMessages.next()]);

    await here.ok(CHANGE_PASSWORD, { current: PASSWORD, next: NEW_PASSWORD });

    expect(await phoneSocket.closed).toBe(4403);
    for (const other of [phone, laptop]) {
      expect((await other.fails('UNAUTHENTICATED', VIEWER)).message).toMatch(/signed out/);
      await anonymous.fails('UNAUTHENTICATED', REFRESH, { t: other.refreshToken });
    }
    // this session: its access token, its socket and its refresh token all still work
    expect((await here.ok<{ viewer: { id: string } }>(VIEWER)).viewer.id).toBe(here.userId);
    await send(here, generalId, 'after');
    expect((await hereMessages.next()).messageAdded.content).toBe('after');
    await anonymous.ok(REFRESH, { t: here.refreshToken });
    hereMessages.close();
    await hereSocket.client.dispose();
  });

  it("does not touch another user's sessions", async () => {
    const user = await signUp(server.graphqlUrl);
    const bystander = await signUp(server.graphqlUrl);
    await user.ok(CHANGE_PASSWORD, { current: PASSWORD, next: NEW_PASSWORD });
    expect((await bystander.ok<{ viewer: { id: string } }>(VIEWER)).viewer.id).toBe(bystander.userId);
    await anonymous.ok(REFRESH, { t: bystander.refreshToken });
  });
});

describe('changeEmail', () => {
  it('refuses a wrong password, and the email stays', async () => {
    const user = await signUp(server.graphqlUrl);
    await failsOnField(user, 'password', CHANGE_EMAIL, { password: `${PASSWORD}!`, email: `${uniqueName()}@example.com` });
    expect((await user.ok<{ viewer: { email: string } }>(VIEWER)).viewer.email).toBe(`${user.username}@example.com`);
  });

  it.each(['not-an-email', 'ada@', '', 'ada example@example.com'])('refuses the email %j', async (email) => {
    const user = await signUp(server.graphqlUrl);
    await failsOnField(user, 'newEmail', CHANGE_EMAIL, { password: PASSWORD, email });
  });

  it("refuses another account's email, whatever its case", async () => {
    const user = await signUp(server.graphqlUrl);
    const other = await signUp(server.graphqlUrl);
    const error = await user.fails('CONFLICT', CHANGE_EMAIL, { password: PASSWORD, email: `${other.username}@EXAMPLE.com` });
    expect(error.extensions?.field).toBe('newEmail');
  });

  it('moves the account: stored lower-cased, signs in by the new email and no longer by the old', async () => {
    const user = await signUp(server.graphqlUrl);
    const email = `${uniqueName('Moved')}@Example.com`;
    const { changeEmail } = await user.ok<{ changeEmail: { id: string; email: string } }>(CHANGE_EMAIL, { password: PASSWORD, email });
    expect(changeEmail).toEqual({ id: user.userId, email: email.toLowerCase() });
    expect((await signIn(server.graphqlUrl, email)).userId).toBe(user.userId);
    await anonymous.fails('UNAUTHENTICATED', LOGIN, { input: { login: `${user.username}@example.com`, password: PASSWORD } });
    // the old address is free for someone else
    await anonymous.ok(`mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
      input: { username: uniqueName(), email: `${user.username}@example.com`, password: PASSWORD },
    });
  });

  it('accepts its own email in another case', async () => {
    const user = await signUp(server.graphqlUrl);
    const { changeEmail } = await user.ok<{ changeEmail: { email: string } }>(CHANGE_EMAIL, {
      password: PASSWORD,
      email: `${user.username}@EXAMPLE.COM`,
    });
    expect(changeEmail.email).toBe(`${user.username}@example.com`);
  });

  it('shows the new email to the user alone', async () => {
    const user = await signUp(server.graphqlUrl);
    const guildmate = await signUp(server.graphqlUrl);
    const { guildId } = await createGuild(user);
    await invite(user, guildId, guildmate);
    await user.ok(CHANGE_EMAIL, { password: PASSWORD, email: `${uniqueName()}@example.com` });
    const { user: seen } = await guildmate.ok<{ user: { email: string | null } }>(`query($u: ID!) { user(id: $u) { email } }`, {
      u: user.userId,
    });
    expect(seen.email).toBeNull();
  });

  it('is refused to an anonymous caller', async () => {
    await anonymous.fails('UNAUTHENTICATED', CHANGE_EMAIL, { password: PASSWORD, email: `${uniqueName()}@example.com` });
  });
});

describe('guessing the password through a stolen session', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ env: { LOGIN_FAILURE_LIMIT: '3' } });
  });
  afterAll(() => limited?.stop());

  it('counts wrong passwords as failed sign-ins of the account, across changePassword, changeEmail and login', async () => {
    const user = await signUp(limited.graphqlUrl);
    await failsOnField(user, 'currentPassword', CHANGE_PASSWORD, { current: 'guess one', next: NEW_PASSWORD });
    await failsOnField(user, 'password', CHANGE_EMAIL, { password: 'guess two', email: `${uniqueName()}@example.com` });
    await failsOnField(user, 'currentPassword', CHANGE_PASSWORD, { current: 'guess three', next: NEW_PASSWORD });
    const refused = await user.fails('RATE_LIMITED', CHANGE_PASSWORD, { current: PASSWORD, next: NEW_PASSWORD });
    expect(refused.extensions?.retryAfterMs).toBeGreaterThan(0);
    await new Client(limited.graphqlUrl).fails('RATE_LIMITED', LOGIN, { input: { login: user.username, password: PASSWORD } });
  });
});
