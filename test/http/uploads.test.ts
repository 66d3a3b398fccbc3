// POST /uploads and GET /static/<name>: files streamed to disk, served back byte for byte,
// limits, authentication, and nothing but generated names reachable under /static.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, type UploadServer, startUploadServer } from '../support/uploads.js';
import type { TestServer } from '../support/app.js';
import { type Client, signUp } from '../support/client.js';

const MAX_BYTES = MAX_UPLOAD_BYTES;
const MAX_FILES = MAX_UPLOAD_FILES;

let uploads: UploadServer;
let server: TestServer;
let user: Client;

beforeAll(async () => {
  uploads = await startUploadServer();
  server = uploads.server;
  user = await signUp(server.graphqlUrl);
});
afterAll(() => uploads?.stop());

interface UploadedAttachment {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  url: string;
}

async function upload(files: { bytes: Buffer; name: string; type?: string }[], token: string | null | undefined = user.token) {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([new Uint8Array(f.bytes)], f.type ? { type: f.type } : {}), f.name);
  const res = await fetch(`${server.url}/uploads`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { attachments?: UploadedAttachment[]; errors?: any[] } };
}

/** A GET without URL normalization: the path reaches the server exactly as written. */
function rawGet(rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const filesOnDisk = () => uploads.filesOnDisk();

describe('POST /uploads', () => {
  it('stores a file and serves it back byte for byte at its url', async () => {
    const bytes = randomBytes(40 * 1024);
    const { status, body } = await upload([{ bytes, name: 'Holiday Photo.PNG', type: 'image/png' }]);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.attachments).toHaveLength(1);
    const [attachment] = body.attachments!;
    expect(attachment).toMatchObject({ fileName: 'Holiday Photo.PNG', contentType: 'image/png', size: bytes.length });
    expect(Buffer.from(attachment!.id, 'base64').toString()).toMatch(/^Attachment:[0-9A-Z]{26}$/);
    expect(attachment!.url).toMatch(/^\/static\/[0-9A-Z]{26}\.png$/);

    const res = await fetch(`${server.url}${attachment!.url}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe("inline; filename*=UTF-8''Holiday%20Photo.PNG");
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d{6,}.*immutable/);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('stores several files in order; non-images are served as downloads under a safe name', async () => {
    const a = randomBytes(1000);
    const b = randomBytes(2000);
    const { status, body } = await upload([
      { bytes: a, name: 'C:\\Users\\me\\notes (draft).TXT', type: 'text/plain' },
      { bytes: b, name: 'résumé.weird-Ext_ension.JSON', type: 'application/vnd.example+json' },
    ]);
    expect(status, JSON.stringify(body)).toBe(200);
    const [first, second] = body.attachments!;
    expect(first).toMatchObject({ fileName: 'notes (draft).TXT', contentType: 'text/plain', size: 1000 });
    expect(first!.url).toMatch(/^\/static\/[0-9A-Z]{26}\.txt$/);
    expect(second).toMatchObject({ fileName: 'résumé.weird-Ext_ension.JSON', contentType: 'application/vnd.example+json', size: 2000 });
    expect(second!.url).toMatch(/^\/static\/[0-9A-Z]{26}\.json$/);

    const res = await fetch(`${server.url}${first!.url}`);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''notes%20%28draft%29.TXT");
    expect(Buffer.from(await res.arrayBuffer()).equals(a)).toBe(true);
    const res2 = await fetch(`${server.url}${second!.url}`);
    expect(res2.headers.get('content-disposition')).toBe(
      `attachment; filename*=UTF-8''${encodeURIComponent('résumé.weird-Ext_ension.JSON')}`,
    );
    expect(Buffer.from(await res2.arrayBuffer()).equals(b)).toBe(true);
  });

  it('accepts a file of exactly the limit', async () => {
    const { status, body } = await upload([{ bytes: randomBytes(MAX_BYTES), name: 'exact.bin' }]);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.attachments![0]!.size).toBe(MAX_BYTES);
  });

  it('refuses a file over the limit with 413 PAYLOAD_TOO_LARGE and leaves nothing on disk', async () => {
    const before = await filesOnDisk();
    const { status, body } = await upload([
      { bytes: randomBytes(100), name: 'small.txt' },
      { bytes: randomBytes(MAX_BYTES + 1), name: 'big.bin' },
    ]);
    expect(status).toBe(413);
    expect(body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses a much larger file while it streams', async () => {
    const before = await filesOnDisk();
    const { status, body } = await upload([{ bytes: randomBytes(MAX_BYTES * 2), name: 'huge.bin' }]);
    expect(status).toBe(413);
    expect(body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses a request body larger than the files it may carry before reading it', async () => {
    const before = await filesOnDisk();
    const { status, body } = await upload([{ bytes: randomBytes(2 * 1024 * 1024), name: 'huge.bin' }]);
    expect(status).toBe(413);
    expect(body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses more than MAX_UPLOAD_FILES files with 413 PAYLOAD_TOO_LARGE', async () => {
    const before = await filesOnDisk();
    const files = Array.from({ length: MAX_FILES + 1 }, (_, i) => ({ bytes: randomBytes(10), name: `f${i}.txt` }));
    const { status, body } = await upload(files);
    expect(status).toBe(413);
    expect(body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses anonymous and bad tokens with 401 UNAUTHENTICATED', async () => {
    const anonymous = await upload([{ bytes: randomBytes(10), name: 'a.txt' }], null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    const bad = await upload([{ bytes: randomBytes(10), name: 'a.txt' }], 'not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a body that is not multipart, or has no file, with 400 BAD_USER_INPUT', async () => {
    const json = await fetch(`${server.url}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');

    const form = new FormData();
    form.append('note', 'no file here');
    const empty = await fetch(`${server.url}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}` },
      body: form,
    });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as any).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'files' });
  });
});

describe('GET /static', () => {
  it('answers 404 to anything but a stored file name', async () => {
    for (const attempt of [
      '/static/../package.json',
      '/static/%2e%2e%2fpackage.json',
      '/static/..%2fpackage.json',
      '/static/%2e%2e/package.json',
      '/static/..\\package.json',
      '/static/unknown.png',
      '/static/',
      '/static/01ARZ3NDEKTSV4RRFFQ69G5FAV.png',
      '/static/01ARZ3NDEKTSV4RRFFQ69G5FAV.png/..',
    ]) {
      const { status, body } = await rawGet(attempt);
      expect(status, attempt).toBe(404);
      expect(body, attempt).not.toContain('"name"');
    }
  });

  it('finds no file under its display name or with a different extension', async () => {
    const { body } = await upload([{ bytes: randomBytes(10), name: 'doc.pdf', type: 'application/pdf' }]);
    const url = body.attachments![0]!.url;
    expect((await rawGet(url)).status).toBe(200);
    expect((await rawGet(url.replace('.pdf', '.png'))).status).toBe(404);
    expect((await rawGet('/static/doc.pdf')).status).toBe(404);
  });

  it('answers a revalidation with 304', async () => {
    const { body } = await upload([{ bytes: randomBytes(10), name: 'x.png', type: 'image/png' }]);
    const first = await fetch(`${server.url}${body.attachments![0]!.url}`);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const again = await fetch(`${server.url}${body.attachments![0]!.url}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });
});

describe('cross-origin clients', () => {
  it('may upload from another origin after a preflight', async () => {
    const preflight = await fetch(`${server.url}/uploads`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');

    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(randomBytes(10))], { type: 'image/gif' }), 'x.gif');
    const res = await fetch(`${server.url}/uploads`, {
      method: 'POST',
      headers: { origin: 'https://app.example', authorization: `Bearer ${user.token}` },
      body: form,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });
});

describe('GraphQL request bodies', () => {
  const LIMIT = 25_000_000;

  /** POSTs a JSON body of about `bytes` to /graphql; chunked unless a length is declared. */
  function postJson(bytes: number, declareLength: boolean): Promise<{ status: number; body: any }> {
    const head = '{"query":"{ __typename }","variables":{"pad":"';
    const tail = '"}}';
    const chunk = Buffer.alloc(1 << 20, 'x');
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(declareLength ? { 'content-length': String(bytes) } : {}) },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      // the server may answer and close before the whole body is sent: writing fails then
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      let sent = 0;
      const pump = () => {
        if (sent === 0) {
          sent += head.length;
          req.write(head);
        }
        while (sent < bytes - tail.length && !answered) {
          const part = chunk.subarray(0, Math.min(chunk.length, bytes - tail.length - sent));
          sent += part.length;
          if (!req.write(part)) return void req.once('drain', pump);
        }
        req.end(tail);
      };
      pump();
    });
  }

  it('answers a small chunked body, counted as it arrives', async () => {
    const { status, body } = await postJson(10_000, false);
    expect(status).toBe(200);
    expect(body.data).toEqual({ __typename: 'Query' });
  });

  it('refuses a chunked body past the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const { status, body } = await postJson(LIMIT + (1 << 20), false);
    expect(status).toBe(413);
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
