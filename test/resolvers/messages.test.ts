// message, sendMessage, editMessage, deleteMessage, and Channel.messages paging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalId } from '../../src/globalIds.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createChannel, failsOnField, guildWithMembers, send, signUp } from '../support/client.js';

const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { id content createdAt editedAt author { id } channel { id } replyTo { id content } }
}`;
const MESSAGE = `query($id: ID!) { message(id: $id) { id content author { id } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on Message { content } } }`;
const EDIT = `mutation($id: ID!, $content: String!) { editMessage(id: $id, content: $content) { id content editedAt } }`;
const DELETE = `mutation($id: ID!) { deleteMessage(id: $id) }`;
const PAGE = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  channel(id: $id) {
    messages(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { id content } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}`;

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { id: string; content: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

const setup = (members = 1) => guildWithMembers(server.graphqlUrl, members);

async function page(client: Client, channelId: string, args: Record<string, unknown>): Promise<Page> {
  return (await client.ok<{ channel: { messages: Page } }>(PAGE, { id: channelId, ...args })).channel.messages;
}
const contents = (p: Page) => p.edges.map((e) => e.node.content);

describe('sendMessage', () => {
  it('a member sends a message; it is stored trimmed, by them, unedited', async () => {
    const { members, generalId } = await setup(1);
    const { sendMessage } = await members[0]!.ok(SEND, { input: { channelId: generalId, content: '  hello there \n' } });
    expect(sendMessage).toMatchObject({
      content: 'hello there',
      editedAt: null,
      author: { id: members[0]!.userId },
      channel: { id: generalId },
      replyTo: null,
    });
    expect(Date.parse(sendMessage.createdAt)).not.toBeNaN();
    expect((await members[0]!.ok(MESSAGE, { id: sendMessage.id })).message.content).toBe('hello there');
  });

  it('a non-member gets NOT_FOUND and nothing is posted', async () => {
    const { owner, generalId } = await setup(0);
    const stranger = await signUp(server.graphqlUrl);
    await stranger.fails('NOT_FOUND', SEND, { input: { channelId: generalId, content: 'let me in' } });
    expect((await page(owner, generalId, {})).totalCount).toBe(0);
  });

  it.each([
    ['empty', ''],
    ['whitespace only', ' \n\t  '],
    ['2001 characters long', 'm'.repeat(2001)],
  ])('refuses content that is %s', async (_label, content) => {
    const { owner, generalId } = await setup(0);
    await failsOnField(owner, 'content', SEND, { input: { channelId: generalId, content } });
    expect((await page(owner, generalId, {})).totalCount).toBe(0);
  });

  it('refuses content with a NUL character, which no text column can store', async () => {
    const { owner, generalId } = await setup(0);
    await failsOnField(owner, 'content', SEND, { input: { channelId: generalId, content: 'nul\u0000byte' } });
  });

  it('accepts 2000 characters, counted after trimming', async () => {
    const { owner, generalId } = await setup(0);
    const { sendMessage } = await owner.ok(SEND, { input: { channelId: generalId, content: `   ${'m'.repeat(2000)}   ` } });
    expect(sendMessage.content).toHaveLength(2000);
  });

  it('replies to a message of the same channel', async () => {
    const { owner, members, generalId } = await setup(1);
    const original = await send(owner, generalId, 'question?');
    const { sendMessage } = await members[0]!.ok(SEND, {
      input: { channelId: generalId, content: 'answer!', replyToId: original },
    });
    expect(sendMessage.replyTo).toEqual({ id: original, content: 'question?' });
  });

  it('refuses a reply to a message of another channel', async () => {
    const { owner, guildId, generalId } = await setup(0);
    const otherId = await createChannel(owner, guildId, 'other');
    const elsewhere = await send(owner, otherId, 'over here');
    await failsOnField(owner, 'replyToId', SEND, { input: { channelId: generalId, content: 'hm', replyToId: elsewhere } });
  });

  it('refuses malformed ids, naming the field', async () => {
    const { owner, generalId } = await setup(0);
    await failsOnField(owner, 'channelId', SEND, { input: { channelId: 'bogus', content: 'x' } });
    await failsOnField(owner, 'replyToId', SEND, { input: { channelId: generalId, content: 'x', replyToId: 'bogus' } });
  });

  it('refuses a channel id of another type with NOT_FOUND', async () => {
    const { owner, guildId } = await setup(0);
    await owner.fails('NOT_FOUND', SEND, { input: { channelId: guildId, content: 'x' } });
  });

  it('refuses to send to a voice channel', async () => {
    const { owner, guildId } = await setup(0);
    const voiceId = await createChannel(owner, guildId, 'Lounge', 'VOICE');
    await failsOnField(owner, 'channelId', SEND, { input: { channelId: voiceId, content: 'anyone?' } });
  });

  it('without SEND_MESSAGES a member is FORBIDDEN and nothing is posted; the owner still sends', async () => {
    const { owner, members, guildId, generalId } = await setup(1);
    // no mutation edits @everyone yet: take the permission away where it is stored
    const guildDbId = decodeGlobalId(guildId)!.id;
    const everyone = await server.app.db.prisma.role.findFirstOrThrow({ where: { guildId: guildDbId, isDefault: true } });
    await server.app.db.prisma.role.update({ where: { id: everyone.id }, data: { permissions: everyone.permissions & ~(1n << 11n) } });
    await members[0]!.fails('FORBIDDEN', SEND, { input: { channelId: generalId, content: 'muted?' } });
    await owner.ok(SEND, { input: { channelId: generalId, content: 'the owner holds every permission' } });
    expect(contents(await page(owner, generalId, { first: 10 }))).toEqual(['the owner holds every permission']);
  });
});

describe('message', () => {
  it('a member reads any message of the guild, through message and node', async () => {
    const { owner, members, generalId } = await setup(1);
    const id = await send(owner, generalId, 'visible to members');
    expect((await members[0]!.ok(MESSAGE, { id })).message).toEqual({ id, content: 'visible to members', author: { id: owner.userId } });
    expect((await members[0]!.ok(NODE, { id })).node).toEqual({ id, content: 'visible to members' });
  });

  it('a non-member gets NOT_FOUND through message and node', async () => {
    const { owner, generalId } = await setup(0);
    const id = await send(owner, generalId, 'members only');
    const stranger = await signUp(server.graphqlUrl);
    await stranger.fails('NOT_FOUND', MESSAGE, { id });
    await stranger.fails('NOT_FOUND', NODE, { id });
  });

  it('refuses a malformed id with BAD_USER_INPUT and a channel id with NOT_FOUND', async () => {
    const { owner, generalId } = await setup(0);
    await failsOnField(owner, 'id', MESSAGE, { id: '!!' });
    await owner.fails('NOT_FOUND', MESSAGE, { id: generalId });
  });
});

describe('editMessage', () => {
  it('the author edits; editedAt is set', async () => {
    const { members, generalId } = await setup(1);
    const id = await send(members[0]!, generalId, 'tpyo');
    const { editMessage } = await members[0]!.ok(EDIT, { id, content: ' typo ' });
    expect(editMessage).toMatchObject({ id, content: 'typo' });
    expect(Date.parse(editMessage.editedAt)).not.toBeNaN();
  });

  it('someone else is FORBIDDEN, even the owner; blank content is refused', async () => {
    const { owner, members, generalId } = await setup(2);
    const id = await send(members[0]!, generalId, 'mine');
    await members[1]!.fails('FORBIDDEN', EDIT, { id, content: 'yours now' });
    await owner.fails('FORBIDDEN', EDIT, { id, content: 'yours now' });
    await failsOnField(members[0]!, 'content', EDIT, { id, content: '   ' });
    expect((await owner.ok(MESSAGE, { id })).message.content).toBe('mine');
  });
});

describe('deleteMessage', () => {
  it('the author deletes their message', async () => {
    const { owner, members, generalId } = await setup(1);
    const id = await send(members[0]!, generalId, 'oops');
    expect(await members[0]!.ok(DELETE, { id })).toEqual({ deleteMessage: id });
    await owner.fails('NOT_FOUND', MESSAGE, { id });
    expect((await page(owner, generalId, {})).totalCount).toBe(0);
  });

  it("another plain member is FORBIDDEN to delete someone's message", async () => {
    const { members, generalId } = await setup(2);
    const id = await send(members[0]!, generalId, 'keep me');
    await members[1]!.fails('FORBIDDEN', DELETE, { id });
    expect((await members[1]!.ok(MESSAGE, { id })).message.id).toBe(id);
  });

  it("the guild owner deletes a member's message (the owner has MANAGE_MESSAGES)", async () => {
    const { owner, members, generalId } = await setup(1);
    const id = await send(members[0]!, generalId, 'spam');
    expect(await owner.ok(DELETE, { id })).toEqual({ deleteMessage: id });
    await members[0]!.fails('NOT_FOUND', MESSAGE, { id });
  });

  it('a non-member gets NOT_FOUND', async () => {
    const { owner, generalId } = await setup(0);
    const id = await send(owner, generalId, 'private');
    await (await signUp(server.graphqlUrl)).fails('NOT_FOUND', DELETE, { id });
  });

  it('a reply outlives the message it answered', async () => {
    const { owner, members, generalId } = await setup(1);
    const original = await send(owner, generalId, 'question?');
    const { sendMessage: reply } = await members[0]!.ok(SEND, {
      input: { channelId: generalId, content: 'answer', replyToId: original },
    });
    await owner.ok(DELETE, { id: original });
    const { message } = await owner.ok(`query($id: ID!) { message(id: $id) { content replyTo { id } } }`, { id: reply.id });
    expect(message).toEqual({ content: 'answer', replyTo: null });
  });
});

describe('Channel.messages', () => {
  let reader: Client;
  let channelId: string;
  let ids: string[]; // oldest first: ids[0] is "m1"

  beforeAll(async () => {
    const { owner, members, generalId } = await setup(1);
    reader = members[0]!;
    channelId = generalId;
    ids = [];
    for (let i = 1; i <= 7; i++) ids.push(await send(i % 2 ? owner : reader, channelId, `m${i}`));
  });

  it('lists newest first, with the total count', async () => {
    const all = await page(reader, channelId, {});
    expect(contents(all)).toEqual(['m7', 'm6', 'm5', 'm4', 'm3', 'm2', 'm1']);
    expect(all.totalCount).toBe(7);
    expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it('first/after pages back in time to the oldest message', async () => {
    const p1 = await page(reader, channelId, { first: 3 });
    expect(contents(p1)).toEqual(['m7', 'm6', 'm5']);
    expect(p1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(p1.pageInfo.startCursor).toBe(p1.edges[0]!.cursor);
    expect(p1.pageInfo.endCursor).toBe(p1.edges[2]!.cursor);

    const p2 = await page(reader, channelId, { first: 3, after: p1.pageInfo.endCursor });
    expect(contents(p2)).toEqual(['m4', 'm3', 'm2']);
    expect(p2.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    const p3 = await page(reader, channelId, { first: 3, after: p2.pageInfo.endCursor });
    expect(contents(p3)).toEqual(['m1']);
    expect(p3.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(p3.totalCount).toBe(7);
  });

  it('last/before returns the newer messages next to the cursor', async () => {
    const newer = await page(reader, channelId, { last: 2, before: ids[1] });
    expect(contents(newer)).toEqual(['m4', 'm3']);
    // m5.. are newer still (previous page); m2 and older follow (next page)
    expect(newer.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    const newest = await page(reader, channelId, { last: 5, before: ids[3] });
    expect(contents(newest)).toEqual(['m7', 'm6', 'm5']);
    expect(newest.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it("accepts a message's id as a cursor, the same as an edge cursor", async () => {
    const byId = await page(reader, channelId, { first: 2, after: ids[4] });
    expect(contents(byId)).toEqual(['m4', 'm3']);
    const edge = (await page(reader, channelId, { first: 3 })).edges[2]!;
    expect(edge.node.content).toBe('m5');
    expect(contents(await page(reader, channelId, { first: 2, after: edge.cursor }))).toEqual(contents(byId));
  });

  it('an empty page past the oldest message', async () => {
    const past = await page(reader, channelId, { first: 5, after: ids[0] });
    expect(past.edges).toEqual([]);
    expect(past.pageInfo).toMatchObject({ hasNextPage: false, startCursor: null, endCursor: null });
  });

  it('refuses first or last above 100, negative sizes, and malformed cursors', async () => {
    await failsOnField(reader, 'first', PAGE, { id: channelId, first: 101 });
    await failsOnField(reader, 'last', PAGE, { id: channelId, last: 101 });
    await failsOnField(reader, 'first', PAGE, { id: channelId, first: -1 });
    await failsOnField(reader, 'after', PAGE, { id: channelId, after: 'not-a-cursor' });
    await failsOnField(reader, 'before', PAGE, { id: channelId, last: 1, before: 'not-a-cursor' });
    expect(contents(await page(reader, channelId, { first: 100 }))).toHaveLength(7);
  });

  it('is NOT_FOUND for a non-member', async () => {
    const stranger = await signUp(server.graphqlUrl);
    await stranger.fails('NOT_FOUND', PAGE, { id: channelId, first: 1 });
  });
});
