// updateProfile: display name, bio, custom status and avatar, who sees them, and the live
// USER_UPDATED event that members of the user's guilds receive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicPayload } from '../../src/pubsub/topics.js';
import { waitForListener } from '../support/app.js';
import { type Client, createGuild, failsOnField, guildWithMembers, localId, send, signUp } from '../support/client.js';
import { type UploadServer, startUploadServer } from '../support/uploads.js';
import { subscribe, wsClient } from '../support/ws.js';

const MAX_AVATAR_BYTES = 2048;
// a 1×1 PNG
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([26, 0, 0, 0]), Buffer.from('WEBPVP8L'), Buffer.alloc(14)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(16)]);

const PROFILE = `id displayName bio avatarUrl discoverable customStatus { text emoji expiresAt }`;
const UPDATE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { ${PROFILE} } }`;
const USER = `query($id: ID!) { user(id: $id) { ${PROFILE} } }`;

let uploads: UploadServer;
let url: string;

beforeAll(async () => {
  uploads = await startUploadServer({ MAX_AVATAR_BYTES: String(MAX_AVATAR_BYTES) });
  url = uploads.server.graphqlUrl;
});
afterAll(() => uploads?.stop());

async function upload(client: Client, bytes: Buffer, name: string, type: string) {
  const form = new FormData();
  form.append('file', new File([new Uint8Array(bytes)], name, { type }));
  const res = await fetch(`${uploads.server.url}/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.token}` },
    body: form,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { attachments: { id: string; url: string }[] }).attachments[0]!;
}

const updateProfile = (client: Client, input: Record<string, unknown>) =>
  client.ok<{ updateProfile: any }>(UPDATE, { input }).then((d) => d.updateProfile);

describe('updateProfile', () => {
  it('changes display name, bio and custom status; a guildmate sees them, and only the user sees discoverable', async () => {
    const { owner, members } = await guildWithMembers(url, 1);
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const updated = await updateProfile(owner, {
      displayName: '  Ada L.  ',
      bio: 'Counting engines.',
      customStatus: { text: 'In a meeting', emoji: '📅', expiresAt },
    });
    expect(updated).toEqual({
      id: owner.userId,
      displayName: 'Ada L.',
      bio: 'Counting engines.',
      avatarUrl: null,
      discoverable: true,
      customStatus: { text: 'In a meeting', emoji: '📅', expiresAt },
    });
    const { user } = await members[0]!.ok(USER, { id: owner.userId });
    expect(user).toEqual({ ...updated, discoverable: null });

    // absent fields stay, null clears
    const cleared = await updateProfile(owner, { bio: null, customStatus: null });
    expect(cleared).toMatchObject({ displayName: 'Ada L.', bio: null, customStatus: null });
    expect((await updateProfile(owner, { customStatus: { text: ' ', emoji: '' } })).customStatus).toBeNull();
  });

  it('a stranger still cannot read the profile (NOT_FOUND), and anonymous callers cannot change one', async () => {
    const me = await signUp(url);
    const stranger = await signUp(url);
    await updateProfile(me, { bio: 'private-ish' });
    await stranger.fails('NOT_FOUND', USER, { id: me.userId });
    const anonymous = Object.assign(Object.create(Object.getPrototypeOf(me)), me, { token: undefined }) as Client;
    await anonymous.fails('UNAUTHENTICATED', UPDATE, { input: { bio: 'x' } });
  });

  it('refuses bad input naming the field', async () => {
    const me = await signUp(url);
    await failsOnField(me, 'displayName', UPDATE, { input: { displayName: '   ' } });
    await failsOnField(me, 'displayName', UPDATE, { input: { displayName: 'x'.repeat(33) } });
    await failsOnField(me, 'bio', UPDATE, { input: { bio: 'x'.repeat(301) } });
    await failsOnField(me, 'customStatus.text', UPDATE, { input: { customStatus: { text: 'x'.repeat(129) } } });
    await failsOnField(me, 'customStatus.emoji', UPDATE, { input: { customStatus: { emoji: 'x'.repeat(65) } } });
    await failsOnField(me, 'customStatus.expiresAt', UPDATE, {
      input: { customStatus: { text: 'late', expiresAt: new Date(Date.now() - 1000).toISOString() } },
    });
    // nothing was changed by the refused attempts
    expect((await me.ok(`{ viewer { displayName bio customStatus { text } } }`)).viewer).toEqual({
      displayName: me.username,
      bio: null,
      customStatus: null,
    });
  });

  it('reads an expired custom status as none', async () => {
    const { owner, members } = await guildWithMembers(url, 1);
    const expiresAt = Date.now() + 1_000;
    await updateProfile(owner, { customStatus: { text: 'brb', expiresAt: new Date(expiresAt).toISOString() } });
    expect((await members[0]!.ok(USER, { id: owner.userId })).user.customStatus).toMatchObject({ text: 'brb' });
    // waiting for the expiry itself, a moment the test chose
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 50));
    expect((await members[0]!.ok(USER, { id: owner.userId })).user.customStatus).toBeNull();
    expect((await owner.ok(`{ viewer { customStatus { text } } }`)).viewer.customStatus).toBeNull();
  });
});

describe('avatars', () => {
  it('takes an uploaded PNG, JPEG, GIF or WebP image by its bytes and serves it with the sniffed type', async () => {
    const me = await signUp(url);
    for (const [bytes, type] of [
      [PNG, 'image/png'],
      [JPEG, 'image/jpeg'],
      [GIF, 'image/gif'],
      [WEBP, 'image/webp'],
    ] as const) {
      // declared as anything: the bytes decide
      const file = await upload(me, bytes, 'avatar.bin', 'application/octet-stream');
      const { avatarUrl } = await updateProfile(me, { avatarAttachmentId: file.id });
      expect(avatarUrl).toBe(file.url);
      const res = await fetch(`${uploads.server.url}${avatarUrl}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
    }
    expect((await updateProfile(me, { avatarAttachmentId: null })).avatarUrl).toBeNull();
  });

  it('refuses what is not an image, a file over MAX_AVATAR_BYTES, and uploads that are not yours to use', async () => {
    const { owner, members, generalId } = await guildWithMembers(url, 1);
    const disguised = await upload(owner, Buffer.from('<svg onload="alert(1)"/>'), 'a.png', 'image/png');
    await failsOnField(owner, 'avatarAttachmentId', UPDATE, { input: { avatarAttachmentId: disguised.id } });
    const huge = await upload(owner, Buffer.concat([PNG, Buffer.alloc(MAX_AVATAR_BYTES)]), 'big.png', 'image/png');
    await owner.fails('PAYLOAD_TOO_LARGE', UPDATE, { input: { avatarAttachmentId: huge.id } });
    const theirs = await upload(members[0]!, PNG, 'theirs.png', 'image/png');
    await failsOnField(owner, 'avatarAttachmentId', UPDATE, { input: { avatarAttachmentId: theirs.id } });
    const sent = await upload(owner, PNG, 'sent.png', 'image/png');
    await owner.ok(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, {
      input: { channelId: generalId, content: 'look', attachmentIds: [sent.id] },
    });
    await failsOnField(owner, 'avatarAttachmentId', UPDATE, { input: { avatarAttachmentId: sent.id } });
    await failsOnField(owner, 'avatarAttachmentId', UPDATE, { input: { avatarAttachmentId: 'not-an-id' } });
    expect((await owner.ok(`{ viewer { avatarUrl } }`)).viewer.avatarUrl).toBeNull();
  });

  it('an upload in use as an avatar cannot be sent with a message', async () => {
    const me = await signUp(url);
    const { generalId } = await createGuild(me);
    const file = await upload(me, PNG, 'me.png', 'image/png');
    await updateProfile(me, { avatarAttachmentId: file.id });
    await failsOnField(me, 'attachmentIds', `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, {
      input: { channelId: generalId, content: 'steal', attachmentIds: [file.id] },
    });
  });
});

describe('profiles on messages', () => {
  it("a page of history shows its authors' profiles without another query", async () => {
    const { owner, members, generalId } = await guildWithMembers(url, 1);
    const avatar = await upload(owner, PNG, 'me.png', 'image/png');
    await updateProfile(owner, { bio: 'engines', customStatus: { emoji: '⚙️' }, avatarAttachmentId: avatar.id });
    await send(owner, generalId, 'hi');
    const page = (author: string) => `query($c: ID!) { channel(id: $c) { messages(first: 10) { edges { node { content author { ${author} } } } } } }`;
    const plain = page('id username');
    const rich = page('id username bio avatarUrl customStatus { emoji }');
    const queries = async (query: string) => {
      const before = uploads.server.app.db.queries.count;
      const data = await members[0]!.ok<{ channel: any }>(query, { c: generalId });
      return { count: uploads.server.app.db.queries.count - before, edges: data.channel.messages.edges };
    };
    await queries(plain);
    const withoutProfiles = await queries(plain);
    const withProfiles = await queries(rich);
    expect(withProfiles.edges).toEqual([
      { node: { content: 'hi', author: { id: owner.userId, username: owner.username, bio: 'engines', avatarUrl: avatar.url, customStatus: { emoji: '⚙️' } } } },
    ]);
    expect(withProfiles.count).toBe(withoutProfiles.count);
  });
});

describe('userUpdated: the live profile', () => {
  it('reaches every member of the guilds the user is in, the user included, answered without a database query', async () => {
    const { owner, members, guildId } = await guildWithMembers(url, 2);
    const outsider = await signUp(url);
    const { guildId: otherGuild } = await createGuild(outsider, 'Elsewhere');
    const query = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename
      ... on UserUpdatedEvent { guildId user { id username displayName bio avatarUrl customStatus { text emoji } } } } }`;
    const watchers = [owner, ...members];
    const sockets = watchers.map((c) => wsClient(uploads.server.wsUrl, c.token));
    const subs = sockets.map((ws) => subscribe<{ guildEvents: any }>(ws, query, { g: guildId }));
    const outsiderWs = wsClient(uploads.server.wsUrl, outsider.token);
    const outsiderSub = subscribe<{ guildEvents: any }>(outsiderWs, query, { g: otherGuild });
    await waitForListener(uploads.server, 'guildEvent', localId(guildId), watchers.length);
    await waitForListener(uploads.server, 'guildEvent', localId(otherGuild));

    const published = new Promise<TopicPayload<'guildEvent'>>((resolve) => {
      void uploads.server.app.pubsub.listen('guildEvent', localId(guildId), resolve);
    });
    const avatar = await upload(members[0]!, PNG, 'me.png', 'image/png');
    await updateProfile(members[0]!, { displayName: 'New Name', bio: 'hello', customStatus: { emoji: '🎧' }, avatarAttachmentId: avatar.id });
    const expected = {
      __typename: 'UserUpdatedEvent',
      guildId,
      user: {
        id: members[0]!.userId,
        username: members[0]!.username,
        displayName: 'New Name',
        bio: 'hello',
        avatarUrl: avatar.url,
        customStatus: { text: null, emoji: '🎧' },
      },
    };
    for (const sub of subs) expect((await sub.next()).guildEvents).toEqual(expected);

    // delivering it again (as another instance would hand it over) costs no query
    const payload = await published;
    const before = uploads.server.app.db.queries.count;
    await uploads.server.app.pubsub.publish('guildEvent', localId(guildId), payload);
    for (const sub of subs) expect((await sub.next()).guildEvents).toEqual(expected);
    expect(uploads.server.app.db.queries.count - before).toBe(0);

    // someone outside the user's guilds hears nothing
    await outsider.ok(UPDATE, { input: { bio: 'mine' } });
    expect((await outsiderSub.next()).guildEvents.user.bio).toBe('mine');
    expect(outsiderSub.pending()).toEqual([]);

    // a change of discoverable alone is nobody else's business
    await updateProfile(members[0]!, { discoverable: false });
    await updateProfile(members[0]!, { bio: 'after' });
    for (const sub of subs) expect((await sub.next()).guildEvents.user.bio).toBe('after');

    for (const sub of [...subs, outsiderSub]) sub.close();
    await Promise.all([...sockets, outsiderWs].map((ws) => ws.dispose()));
  });
});
