// What a hostile web page or a careless client gets from /graphql: no schema in production,
// no CSRF through simple requests, CORS only from the allowlist, and no internals in errors.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, signUp } from '../support/client.js';

let production: TestServer;
let development: TestServer;
let user: Client;

beforeAll(async () => {
  [production, development] = await Promise.all([
    startTestServer({ env: { NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example, https://admin.example' } }),
    startTestServer({ env: { NODE_ENV: 'development' } }),
  ]);
  user = await signUp(production.graphqlUrl);
});
afterAll(() => Promise.all([production?.stop(), development?.stop()]));

async function post(server: TestServer, body: BodyInit, headers: Record<string, string>) {
  const res = await fetch(server.graphqlUrl, { method: 'POST', headers, body });
  const text = await res.text();
  let json: { data?: any; errors?: any[] } | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const json = (server: TestServer, body: unknown, headers: Record<string, string> = {}) =>
  post(server, JSON.stringify(body), { 'content-type': 'application/json', ...headers });

describe('introspection and suggestions', () => {
  it('production answers no __schema and no __type', async () => {
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "User") { name fields { name } } }']) {
      const res = await json(production, { query });
      expect(res.json?.data ?? undefined).toBeUndefined();
      expect(res.json?.errors?.[0]).toMatchObject({
        message: expect.stringContaining('introspection has been disabled'),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
    }
    // __typename is not introspection
    expect((await json(production, { query: '{ __typename }' })).json).toEqual({ data: { __typename: 'Query' } });
  });

  it('development answers introspection; GRAPHQL_INTROSPECTION turns it on in production', async () => {
    expect((await json(development, { query: '{ __type(name: "User") { name } }' })).json).toEqual({ data: { __type: { name: 'User' } } });
    const switchedOn = await startTestServer({ env: { NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' } });
    try {
      expect((await json(switchedOn, { query: '{ __schema { queryType { name } } }' })).json).toEqual({
        data: { __schema: { queryType: { name: 'Query' } } },
      });
    } finally {
      await switchedOn.stop();
    }
  });

  it('production names no field, type or enum value the client did not write', async () => {
    const field = await json(production, { query: '{ viewr { id } }' });
    expect(field.json?.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(field.text).not.toMatch(/Did you mean|"viewer"/);
    const value = await json(production, {
      query: 'mutation($s: PresenceStatus!) { setPresence(status: $s) { id } }',
      variables: { s: 'ONLIN' },
    }, { authorization: `Bearer ${user.token}` });
    expect(value.json?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(value.text).not.toMatch(/Did you mean|ONLINE/);
    // development keeps the hints
    expect((await json(development, { query: '{ viewr { id } }' })).text).toContain('Did you mean');
  });
});

describe('CSRF: the shapes a page of any site can send without a preflight', () => {
  const mutation = 'mutation { logout(refreshToken: "x") }';

  it.each([
    ['application/x-www-form-urlencoded', () => new URLSearchParams({ query: mutation }).toString(), 'application/x-www-form-urlencoded'],
    ['text/plain', () => JSON.stringify({ query: mutation }), 'text/plain;charset=UTF-8'],
    ['no content type', () => JSON.stringify({ query: mutation }), undefined],
  ])('%s is refused with 403 FORBIDDEN, in every mode', async (_label, body, contentType) => {
    for (const server of [production, development]) {
      const res = await post(server, body(), contentType ? { 'content-type': contentType } : {});
      expect(res.status).toBe(403);
      expect(res.json?.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
      expect(res.json?.data).toBeUndefined();
    }
  });

  it('a file-less multipart/form-data POST is refused with 403 FORBIDDEN; queries too', async () => {
    for (const query of [mutation, '{ __typename }']) {
      const form = new FormData();
      form.append('operations', JSON.stringify({ query }));
      form.append('map', '{}');
      const res = await fetch(production.graphqlUrl, { method: 'POST', body: form });
      expect(res.status).toBe(403);
      expect(((await res.json()) as any).errors[0].extensions).toEqual({ code: 'FORBIDDEN' });
    }
  });

  it('an anonymous multipart upload is told it needs a token (401); a signed-in one works', async () => {
    const UPLOAD = 'mutation($files: [File!]!) { uploadAttachments(files: $files) { fileName size } }';
    const form = () => {
      const f = new FormData();
      f.append('operations', JSON.stringify({ query: UPLOAD, variables: { files: [null] } }));
      f.append('map', JSON.stringify({ 0: ['variables.files.0'] }));
      f.append('0', new File([randomBytes(100)], 'a.bin'));
      return f;
    };
    const anonymous = await fetch(production.graphqlUrl, { method: 'POST', body: form() });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as any).errors[0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
    const signedIn = await fetch(production.graphqlUrl, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form() });
    expect(signedIn.status).toBe(200);
    expect(((await signedIn.json()) as any).data.uploadAttachments).toEqual([{ fileName: 'a.bin', size: 100 }]);
  });

  it('a simple-request shape with a preflight-forcing header is allowed; JSON and GET queries always are', async () => {
    const form = await post(production, new URLSearchParams({ query: '{ __typename }' }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'graphql-preflight': '1',
    });
    expect(form.json).toEqual({ data: { __typename: 'Query' } });
    expect((await json(production, { query: '{ __typename }' })).json).toEqual({ data: { __typename: 'Query' } });
    const get = await fetch(`${production.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`);
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    // and GET still runs no mutation
    const getMutation = await fetch(`${production.graphqlUrl}?query=${encodeURIComponent(mutation)}`);
    expect(getMutation.status).toBe(405);
  });
});

describe('CORS', () => {
  const preflight = (server: TestServer, origin: string) =>
    fetch(server.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });

  it('production allows the listed origins, without credentials', async () => {
    const res = await preflight(production, 'https://admin.example');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const actual = await json(production, { query: '{ __typename }' }, { origin: 'https://app.example' });
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(actual.headers.get('access-control-allow-credentials')).toBeNull();
    expect(actual.headers.get('vary')).toContain('Origin');
  });

  it('production refuses a preflight from any other origin with 403, and grants its requests nothing', async () => {
    const res = await preflight(production, 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await res.json()) as any).errors[0].extensions).toEqual({ code: 'FORBIDDEN' });
    const actual = await json(production, { query: '{ __typename }' }, { origin: 'https://evil.example' });
    expect(actual.headers.get('access-control-allow-origin')).toBeNull();
    // the same for uploads
    const uploads = await fetch(`${production.url}/uploads`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(uploads.status).toBe(403);
    expect(uploads.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('production without CORS_ORIGINS allows no cross-origin caller', async () => {
    const closed = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      const res = await preflight(closed, 'https://app.example');
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await closed.stop();
    }
  });

  it('development allows any origin, still without credentials', async () => {
    const res = await preflight(development, 'http://localhost:5173');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('no internals in any error, in any mode', () => {
  const truncated = '{"query":"mutation { login(input: { login: \\"ada\\", password: \\"hunter2';
  const binary = new Uint8Array([0xff, 0xfe, 0x00, 0x81, 0x7b, 0x22]);

  it.each([
    ['a truncated JSON body', truncated],
    ['a binary body', binary],
  ])('%s is 400 BAD_REQUEST with a plain message', async (_label, body) => {
    for (const server of [production, development]) {
      for (const accept of ['application/json', 'application/graphql-response+json']) {
        const res = await post(server, body, { 'content-type': 'application/json', accept });
        expect(res.status).toBe(400);
        expect(res.json?.errors).toEqual([{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }]);
        expect(res.text).not.toMatch(/originalError|SyntaxError|position|hunter2|stack/);
      }
    }
  });

  it('a query string whose variables are not JSON is 400 BAD_REQUEST, not an internal error', async () => {
    for (const server of [production, development]) {
      const res = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent('query($n: Int) { __typename }')}&variables=%7Bbad`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as any;
      expect(body.errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
      expect(JSON.stringify(body)).not.toMatch(/originalError|SyntaxError|position/);
    }
  });
});
