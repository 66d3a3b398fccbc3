// uploadAttachments through the GraphQL multipart request spec, with the upload limits
// applied while yoga parses the body.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, type UploadServer, startUploadServer } from '../support/uploads.js';
import type { TestServer } from '../support/app.js';
import { type Client, createGuild, signUp } from '../support/client.js';

const MAX_BYTES = MAX_UPLOAD_BYTES;
const MAX_FILES = MAX_UPLOAD_FILES;
const UPLOAD = `mutation($files: [File!]!) { uploadAttachments(files: $files) { id fileName contentType size url } }`;

let uploads: UploadServer;
let server: TestServer;
let user: Client;

beforeAll(async () => {
  uploads = await startUploadServer();
  server = uploads.server;
  user = await signUp(server.graphqlUrl);
});
afterAll(() => uploads?.stop());

/** A multipart request as the spec describes it: operations, map, then the files 0, 1, … */
async function uploadViaGraphQL(files: File[], token: string | null = user.token ?? null) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { files: files.map(() => null) } }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((file, i) => form.append(String(i), file));
  const res = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: {
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[] } };
}

const filesOnDisk = () => uploads.filesOnDisk();

describe('uploadAttachments', () => {
  it('stores a file sent as a GraphQL multipart request and serves it back byte for byte', async () => {
    const bytes = randomBytes(40 * 1024);
    const { body } = await uploadViaGraphQL([new File([bytes], 'cat.JPG', { type: 'image/jpeg' })]);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const [attachment] = body.data.uploadAttachments;
    expect(attachment).toMatchObject({ fileName: 'cat.JPG', contentType: 'image/jpeg', size: bytes.length });
    expect(Buffer.from(attachment.id, 'base64').toString()).toMatch(/^Attachment:[0-9A-Z]{26}$/);
    expect(attachment.url).toMatch(/^\/static\/[0-9A-Z]{26}\.jpg$/);

    const res = await fetch(`${server.url}${attachment.url}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe("inline; filename*=UTF-8''cat.JPG");
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('stores several files in the order given', async () => {
    const files = [
      new File([randomBytes(10)], 'a.txt', { type: 'text/plain' }),
      new File([randomBytes(20)], 'b', { type: 'application/octet-stream' }),
    ];
    const { body } = await uploadViaGraphQL(files);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    expect(body.data.uploadAttachments.map((a: any) => [a.fileName, a.size])).toEqual([
      ['a.txt', 10],
      ['b', 20],
    ]);
    expect(body.data.uploadAttachments[1].url).toMatch(/^\/static\/[0-9A-Z]{26}$/);
  });

  it('refuses a file over MAX_UPLOAD_BYTES with PAYLOAD_TOO_LARGE and leaves nothing on disk', async () => {
    const before = await filesOnDisk();
    const { status, body } = await uploadViaGraphQL([
      new File([randomBytes(10)], 'fine.txt'),
      new File([randomBytes(MAX_BYTES + 1)], 'big.bin'),
    ]);
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe('PAYLOAD_TOO_LARGE');
    expect(status).toBe(413);
    expect(body.data ?? null).toBeNull();
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses a request body larger than the files it may carry before parsing it', async () => {
    const before = await filesOnDisk();
    const { status, body } = await uploadViaGraphQL([new File([randomBytes(2 * 1024 * 1024)], 'huge.bin')]);
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe('PAYLOAD_TOO_LARGE');
    expect(status).toBe(413);
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses more than MAX_UPLOAD_FILES files with PAYLOAD_TOO_LARGE', async () => {
    const before = await filesOnDisk();
    const files = Array.from({ length: MAX_FILES + 1 }, (_, i) => new File([randomBytes(10)], `f${i}.txt`));
    const { body } = await uploadViaGraphQL(files);
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe('PAYLOAD_TOO_LARGE');
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses anonymous uploads with UNAUTHENTICATED', async () => {
    const before = await filesOnDisk();
    const { body } = await uploadViaGraphQL([new File([randomBytes(10)], 'a.txt')], null);
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body)).toBe('UNAUTHENTICATED');
    expect(await filesOnDisk()).toEqual(before);
  });

  it('refuses an empty list and non-file values with BAD_USER_INPUT', async () => {
    const empty = await user.request(UPLOAD, { files: [] });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'files' });
    const notFiles = await user.request(UPLOAD, { files: ['just a string'] });
    expect(notFiles.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'files' });
  });

  it('keeps ordinary JSON requests working alongside the upload limits', async () => {
    const res = await user.ok<{ viewer: { id: string } }>('{ viewer { id } }');
    expect(res.viewer.id).toBe(user.userId);
  });
});

describe('sending a message with attachments', () => {
  it('attaches only the sender’s own unattached uploads, all or nothing', async () => {
    const sender = await signUp(server.graphqlUrl);
    const other = await signUp(server.graphqlUrl);
    const { generalId } = await createGuild(sender, 'Files');
    const upload = async (who: Client, name: string) =>
      (await uploadViaGraphQL([new File([name], name, { type: 'text/plain' })], who.token!)).body.data.uploadAttachments[0];
    const mine = await upload(sender, 'mine.txt');
    const theirs = await upload(other, 'theirs.txt');
    const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id attachments { id fileName url } } }`;

    const refused = await sender.fails('BAD_USER_INPUT', SEND, {
      input: { channelId: generalId, content: 'not yours', attachmentIds: [mine.id, theirs.id] },
    });
    expect(refused.extensions?.field).toBe('attachmentIds');
    const { channel } = await sender.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { messages { totalCount } } }`, {
      c: generalId,
    });
    expect(channel.messages.totalCount).toBe(0);

    const { sendMessage } = await sender.ok<{ sendMessage: any }>(SEND, {
      input: { channelId: generalId, content: 'here', attachmentIds: [mine.id] },
    });
    expect(sendMessage.attachments).toEqual([{ id: mine.id, fileName: 'mine.txt', url: mine.url }]);
    await sender.fails('BAD_USER_INPUT', SEND, { input: { channelId: generalId, content: 'again', attachmentIds: [mine.id] } });
  });
});
