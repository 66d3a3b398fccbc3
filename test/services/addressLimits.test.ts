// Limits per client address and per canonical account, as a client meets them: through the
// API of a server behind one trusted proxy (TRUST_PROXY=1), each test from addresses of its
// own (with Redis the counters outlive a run, and other test files share them).
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddressOf } from '../../src/context.js';
import { loadConfig } from '../../src/config.js';
import { addressKey } from '../../src/services/rateLimits.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { type GraphQLResponse, PASSWORD, uniqueName } from '../support/client.js';

let server: TestServer;

const ACCOUNT_LIMIT = 3;
const ADDRESS_LIMIT = 5;
const REGISTER_LIMIT = 3;
const SEARCH_LIMIT = 3;

beforeAll(async () => {
  server = await startTestServer({
    env: {
      TRUST_PROXY: 'true',
      LOGIN_FAILURE_LIMIT: String(ACCOUNT_LIMIT),
      LOGIN_ADDRESS_LIMIT: String(ADDRESS_LIMIT),
      REGISTER_ADDRESS_LIMIT: String(REGISTER_LIMIT),
      SEARCH_RATE_LIMIT: String(SEARCH_LIMIT),
    },
  });
});
afterAll(() => server?.stop());

/** A documentation-range address nobody else uses this run. */
const freshAddress = () => `198.18.${randomInt(256)}.${randomInt(256)}`;

/** A request as it arrives through the proxy: the client's address last in X-Forwarded-For. */
async function from(address: string, query: string, variables?: Record<string, unknown>, token?: string) {
  const res = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      // what the client claims comes first; the proxy appends what it saw
      'x-forwarded-for': `6.6.6.6, ${address}`,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLResponse;
}

/** A fresh account, registered from an address of its own (signUp's 127.0.0.1 is limited here too). */
async function account(name = uniqueName()) {
  const res = await from(freshAddress(), `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
    input: { username: name, email: `${name}@example.com`, password: PASSWORD },
  });
  expect(res.errors).toBeUndefined();
  return { username: name, token: res.data!.register.accessToken as string };
}

const codeOf = (res: GraphQLResponse) => res.errors?.[0]?.extensions?.code ?? 'OK';
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`;
const SEARCH = `query($s: String) { users(search: $s) { totalCount } }`;
const login = (address: string, name: string, password: string) => from(address, LOGIN, { input: { login: name, password } });

describe('failed sign-ins per account', () => {
  it('count once per account, whatever the spelling: username in any case, or email', async () => {
    const name = uniqueName('Alice');
    const alice = await account(name);
    // every guess from its own address, so only the account's counter can stop them
    const spellings = [name.toLowerCase(), name.toUpperCase(), `${name}@example.com`.toUpperCase()];
    for (const spelling of spellings) expect(codeOf(await login(freshAddress(), spelling, 'wrong guess'))).toBe('UNAUTHENTICATED');
    const refused = await login(freshAddress(), name, PASSWORD);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
    expect(codeOf(await login(freshAddress(), `${name}@example.com`, PASSWORD))).toBe('RATE_LIMITED');
    expect(alice.token).toBeDefined();
  });

  it('count an unknown login under its folded spelling', async () => {
    const ghost = uniqueName('Ghost');
    for (const spelling of [ghost, ghost.toLowerCase(), ` ${ghost.toUpperCase()} `]) {
      expect(codeOf(await login(freshAddress(), spelling, 'x'))).toBe('UNAUTHENTICATED');
    }
    expect(codeOf(await login(freshAddress(), ghost.toLowerCase(), 'x'))).toBe('RATE_LIMITED');
  });
});

describe('failed sign-ins per address', () => {
  it('stop one guess each at many accounts from one address, even a right one; other addresses go on', async () => {
    const address = freshAddress();
    for (let i = 0; i < ADDRESS_LIMIT; i++) expect(codeOf(await login(address, uniqueName('victim'), 'guess'))).toBe('UNAUTHENTICATED');
    const real = await account();
    expect(codeOf(await login(address, real.username, PASSWORD))).toBe('RATE_LIMITED');
    expect(codeOf(await login(freshAddress(), real.username, PASSWORD))).toBe('OK');
  });

  it('cut a concurrent burst at the limit: of ten guesses at once, exactly the allowance is checked', async () => {
    const address = freshAddress();
    const answers = await Promise.all(Array.from({ length: 10 }, () => login(address, uniqueName('burst'), 'guess')));
    const codes = answers.map(codeOf);
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(ADDRESS_LIMIT);
    expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(10 - ADDRESS_LIMIT);
  });

  it('do not count successful sign-ins', async () => {
    const address = freshAddress();
    const user = await account();
    for (let i = 0; i < ADDRESS_LIMIT + 2; i++) expect(codeOf(await login(address, user.username, PASSWORD))).toBe('OK');
  });
});

describe('registration per address', () => {
  it('answers whether an email or username is taken only REGISTER_ADDRESS_LIMIT times an hour per address', async () => {
    const address = freshAddress();
    const taken = await account();
    const fresh = uniqueName('reg');
    const attempt = (username: string, email: string) => from(address, REGISTER, { input: { username, email, password: PASSWORD } });
    expect(codeOf(await attempt(fresh, `${fresh}@example.com`))).toBe('OK');
    const emailTaken = await attempt(uniqueName('reg'), `${taken.username}@example.com`);
    expect(codeOf(emailTaken)).toBe('CONFLICT');
    expect(emailTaken.errors?.[0]?.extensions?.field).toBe('email');
    const nameTaken = await attempt(taken.username, `${uniqueName('reg')}@example.com`);
    expect(codeOf(nameTaken)).toBe('CONFLICT');
    expect(nameTaken.errors?.[0]?.extensions?.field).toBe('username');
    const refused = await attempt(uniqueName('reg'), `${taken.username}@example.com`);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
    expect(codeOf(await from(freshAddress(), REGISTER, { input: { username: uniqueName('reg'), email: `${uniqueName('r')}@example.com`, password: PASSWORD } }))).toBe('OK');
  });
});

describe('users search per address and per user', () => {
  it('allows SEARCH_RATE_LIMIT searches a minute per address', async () => {
    const me = await account();
    const address = freshAddress();
    for (let i = 0; i < SEARCH_LIMIT; i++) expect(codeOf(await from(address, SEARCH, { s: 'a' }, me.token))).toBe('OK');
    expect(codeOf(await from(address, SEARCH, { s: 'a' }, me.token))).toBe('RATE_LIMITED');
    expect(codeOf(await from(freshAddress(), SEARCH, { s: 'a' }, (await account()).token))).toBe('OK');
  });

  it('allows SEARCH_RATE_LIMIT searches a minute per user, from however many addresses (scraping)', async () => {
    const scraper = await account();
    for (let i = 0; i < SEARCH_LIMIT; i++) expect(codeOf(await from(freshAddress(), SEARCH, { s: `a${i}` }, scraper.token))).toBe('OK');
    const refused = await from(freshAddress(), SEARCH, { s: 'b' }, scraper.token);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors?.[0]?.extensions?.retryAfterMs).toBeGreaterThan(0);
    expect(codeOf(await from(freshAddress(), SEARCH, { s: 'b' }, (await account()).token))).toBe('OK');
  });
});

describe('the client address', () => {
  it('is the socket peer unless proxies are trusted, then the entry the outermost trusted proxy appended', () => {
    expect(clientAddressOf('10.0.0.9', '1.2.3.4', 0)).toBe('10.0.0.9');
    expect(clientAddressOf('10.0.0.9', '6.6.6.6, 1.2.3.4', 1)).toBe('1.2.3.4');
    expect(clientAddressOf('10.0.0.9', '6.6.6.6, 1.2.3.4, 10.0.0.2', 2)).toBe('1.2.3.4');
    expect(clientAddressOf('10.0.0.9', null, 1)).toBe('10.0.0.9');
    expect(clientAddressOf(undefined, undefined, 0)).toBeNull();
  });

  it('counts IPv4 as is, IPv4-mapped IPv6 unwrapped, IPv6 by its /64, anything else as one unknown bucket', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('not an address')).toBe('unknown');
    expect(addressKey(null)).toBe('unknown');
  });

  it('TRUST_PROXY takes true/false or a number of proxies', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(0);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(() => loadConfig({ TRUST_PROXY: 'maybe' })).toThrow(/TRUST_PROXY/);
  });
});
