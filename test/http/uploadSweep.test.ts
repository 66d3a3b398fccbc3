// Upload housekeeping as an operator sees it: files nobody can use leave the disk.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Client, createGuild, signUp } from '../support/client.js';
import { type UploadServer, startUploadServer } from '../support/uploads.js';

let uploads: UploadServer;
let user: Client;

beforeAll(async () => {
  uploads = await startUploadServer({ UNATTACHED_UPLOAD_TTL_SECONDS: '1' });
  user = await signUp(uploads.server.graphqlUrl);
});
afterAll(() => uploads?.stop());

async function upload(name: string) {
  const form = new FormData();
  form.append('file', new File([`contents of ${name}`], name, { type: 'text/plain' }));
  const res = await fetch(`${uploads.server.url}/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}` },
    body: form,
  });
  const body = (await res.json()) as { attachments: { id: string; url: string }[] };
  return body.attachments[0]!;
}

const storedName = (url: string) => url.replace('/static/', '');

it('removes never-attached uploads and the files of deleted messages, and keeps attached ones', async () => {
  const { generalId } = await createGuild(user);
  const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
  const abandoned = await upload('abandoned.txt');
  const kept = await upload('kept.txt');
  const removed = await upload('removed.txt');
  await user.ok(SEND, { input: { channelId: generalId, content: 'keep', attachmentIds: [kept.id] } });
  const { sendMessage } = await user.ok<{ sendMessage: { id: string } }>(SEND, {
    input: { channelId: generalId, content: 'oops', attachmentIds: [removed.id] },
  });
  await user.ok(`mutation($id: ID!) { deleteMessage(id: $id) }`, { id: sendMessage.id });
  // a deleted message's file is unreachable at once, before any sweep
  expect((await fetch(`${uploads.server.url}${removed.url}`)).status).toBe(404);

  const deadline = Date.now() + 15_000;
  let onDisk = await uploads.filesOnDisk();
  while (onDisk.includes(storedName(abandoned.url)) || onDisk.includes(storedName(removed.url))) {
    if (Date.now() > deadline) throw new Error(`still on disk: ${onDisk.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
    onDisk = await uploads.filesOnDisk();
  }
  expect(onDisk).toEqual([storedName(kept.url)]);
  expect((await fetch(`${uploads.server.url}${abandoned.url}`)).status).toBe(404);
  const served = await fetch(`${uploads.server.url}${kept.url}`);
  expect(served.status).toBe(200);
  expect(await served.text()).toBe('contents of kept.txt');
});

it('keeps an upload in use as an avatar, and sweeps the one it replaced', async () => {
  const png = (n: number) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from([n])]);
  const uploadImage = async (n: number) => {
    const form = new FormData();
    form.append('file', new File([new Uint8Array(png(n))], `avatar${n}.png`, { type: 'image/png' }));
    const res = await fetch(`${uploads.server.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form });
    return ((await res.json()) as { attachments: { id: string; url: string }[] }).attachments[0]!;
  };
  const SET = `mutation($a: ID) { updateProfile(input: { avatarAttachmentId: $a }) { avatarUrl } }`;
  const first = await uploadImage(1);
  await user.ok(SET, { a: first.id });
  const second = await uploadImage(2);
  await user.ok(SET, { a: second.id });
  const bait = await uploadImage(3);

  const deadline = Date.now() + 15_000;
  let onDisk = await uploads.filesOnDisk();
  while (onDisk.includes(storedName(first.url)) || onDisk.includes(storedName(bait.url))) {
    if (Date.now() > deadline) throw new Error(`still on disk: ${onDisk.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
    onDisk = await uploads.filesOnDisk();
  }
  expect(onDisk).toContain(storedName(second.url));
  expect((await user.ok(`{ viewer { avatarUrl } }`)).viewer.avatarUrl).toBe(second.url);
  expect((await fetch(`${uploads.server.url}${second.url}`)).status).toBe(200);
});
