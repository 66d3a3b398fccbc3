// Rate limits as a client meets them: through the API, on a server with low limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { Client, PASSWORD, createGuild, send, signUp, uniqueName } from '../support/client.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ env: { MESSAGE_RATE_LIMIT: '3', LOGIN_FAILURE_LIMIT: '3' } });
});
afterAll(() => server?.stop());

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;

describe('message rate limit', () => {
  it('refuses a burst past the allowance with RATE_LIMITED and a retry delay, per user', async () => {
    const spammer = await signUp(server.graphqlUrl);
    const bystander = await signUp(server.graphqlUrl);
    const { generalId } = await createGuild(spammer);
    for (let i = 0; i < 3; i++) await send(spammer, generalId, `burst ${i}`);
    const refused = await spammer.fails(
      'RATE_LIMITED',
      `mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "one too many" }) { id } }`,
      { c: generalId },
    );
    expect(refused.extensions?.retryAfterMs).toBeGreaterThan(0);
    expect(refused.extensions?.retryAfterMs).toBeLessThanOrEqual(10_000);
    const { generalId: theirs } = await createGuild(bystander);
    await send(bystander, theirs, 'unaffected');
  });
});

describe('failed sign-in limit', () => {
  it('stops guessing on an account, even with the right password, until the window passes', async () => {
    const victim = await signUp(server.graphqlUrl);
    const guesser = new Client(server.graphqlUrl);
    for (let i = 0; i < 3; i++) {
      await guesser.fails('UNAUTHENTICATED', LOGIN, { input: { login: victim.username, password: `guess ${i}` } });
    }
    const refused = await guesser.fails('RATE_LIMITED', LOGIN, { input: { login: victim.username, password: PASSWORD } });
    expect(refused.extensions?.retryAfterMs).toBeGreaterThan(0);
  });

  it('limits unknown accounts the same way, and a successful sign-in clears the count', async () => {
    const guesser = new Client(server.graphqlUrl);
    // unique: with Redis the count outlives this test run
    const ghost = uniqueName('ghost');
    for (let i = 0; i < 3; i++) await guesser.fails('UNAUTHENTICATED', LOGIN, { input: { login: ghost, password: 'x' } });
    await guesser.fails('RATE_LIMITED', LOGIN, { input: { login: ghost, password: 'x' } });

    const forgetful = await signUp(server.graphqlUrl);
    for (let i = 0; i < 2; i++) await guesser.fails('UNAUTHENTICATED', LOGIN, { input: { login: forgetful.username, password: 'nope' } });
    await guesser.ok(LOGIN, { input: { login: forgetful.username, password: PASSWORD } });
    for (let i = 0; i < 2; i++) await guesser.fails('UNAUTHENTICATED', LOGIN, { input: { login: forgetful.username, password: 'nope' } });
    await guesser.ok(LOGIN, { input: { login: forgetful.username, password: PASSWORD } });
  });
});
