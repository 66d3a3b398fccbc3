// What the hot operations cost the database, counted statement by statement through the
// driver adapter: sending, a history page with everything a chat screen shows, and viewer.
// The figures are the contract of issue 8 (at most 3, 3 and 1); they must not grow with the
// page size or with what the page's messages carry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type UploadServer, startUploadServer } from '../support/uploads.js';
import { type Client, createGuild, invite, signUp } from '../support/client.js';

let uploads: UploadServer;
let owner: Client;
let member: Client;
let channelId: string;

const SEND = `mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { id content createdAt author { id username } mentions { id } replyTo { id author { id } } attachments { id url } reactions { emoji count } }
}`;

const PAGE = `query($c: ID!, $first: Int, $after: String) { channel(id: $c) { id name messages(first: $first, after: $after) {
  edges { cursor node {
    id content createdAt editedAt
    author { id username displayName }
    attachments { id fileName contentType size url }
    mentions { id username }
    reactions { emoji count viewerReacted }
    replyTo { id content author { id username } }
  } }
  pageInfo { hasNextPage hasPreviousPage endCursor }
} } }`;

async function statements(run: () => Promise<unknown>): Promise<number> {
  const before = uploads.server.app.db.queries.count;
  await run();
  return uploads.server.app.db.queries.count - before;
}

async function uploadFile(client: Client, name: string): Promise<string> {
  const form = new FormData();
  form.append('file', new File([Buffer.from('a picture, in spirit')], name, { type: 'image/png' }));
  const res = await fetch(`${uploads.server.url}/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.token}` },
    body: form,
  });
  const body = (await res.json()) as { attachments: { id: string }[] };
  return body.attachments[0]!.id;
}

beforeAll(async () => {
  uploads = await startUploadServer();
  const url = uploads.server.graphqlUrl;
  owner = await signUp(url);
  member = await signUp(url);
  let guildId: string;
  ({ guildId, generalId: channelId } = await createGuild(owner, 'Costs'));
  await invite(owner, guildId, member);
  // 120 messages: replies, mentions, attachments and reactions spread through them
  let previous: string | null = null;
  for (let n = 0; n < 120; n++) {
    const attachmentIds = n % 10 === 0 ? [await uploadFile(owner, `p${n}.png`)] : [];
    const { sendMessage }: { sendMessage: { id: string } } = await owner.ok(SEND, {
      input: {
        channelId,
        content: n % 3 === 0 ? `hi <@${member.userId}> #${n}` : `message #${n}`,
        replyToId: n % 4 === 0 ? previous : null,
        attachmentIds,
      },
    });
    if (n % 5 === 0) {
      await member.ok(`mutation($m: ID!) { addReaction(messageId: $m, emoji: "🎉") { id } }`, { m: sendMessage.id });
    }
    previous = sendMessage.id;
  }
  // the session check is cached after the first request of a session
  await member.ok(`{ viewer { id } }`);
  await owner.ok(`{ viewer { id } }`);
});
afterAll(() => uploads?.stop());

describe('database round trips', () => {
  it('sends a message with a reply and a mention in one statement (channel, permission and all)', async () => {
    const { channel } = await owner.ok<{ channel: any }>(PAGE, { c: channelId, first: 1 });
    const replyToId = channel.messages.edges[0].node.id;
    let answer: any;
    const cost = await statements(async () => {
      answer = await owner.ok(SEND, { input: { channelId, content: `<@${member.userId}> look`, replyToId } });
    });
    expect(cost).toBe(1);
    expect(answer.sendMessage).toMatchObject({
      content: `<@${member.userId}> look`,
      author: { id: owner.userId },
      mentions: [{ id: member.userId }],
      replyTo: { id: replyToId, author: { id: owner.userId } },
    });
  });

  it.each([20, 50, 100])('reads a %i-message history page with everything it shows in at most 3 statements', async (first) => {
    let page: any;
    const cost = await statements(async () => {
      page = (await member.ok<{ channel: any }>(PAGE, { c: channelId, first })).channel.messages;
    });
    expect(cost).toBeLessThanOrEqual(3);
    expect(page.edges).toHaveLength(first);
    const nodes = page.edges.map((e: any) => e.node);
    expect(nodes.some((n: any) => n.attachments.length === 1 && n.attachments[0].url.startsWith('/static/'))).toBe(true);
    expect(nodes.some((n: any) => n.replyTo?.author?.id === owner.userId)).toBe(true);
    expect(nodes.some((n: any) => n.mentions.some((u: any) => u.id === member.userId))).toBe(true);
    expect(nodes.some((n: any) => n.reactions.some((r: any) => r.emoji === '🎉' && r.count === 1 && r.viewerReacted))).toBe(true);

    // the next page back in time costs the same, and carries on where this one ended
    let next: any;
    const nextCost = await statements(async () => {
      next = (await member.ok<{ channel: any }>(PAGE, { c: channelId, first, after: page.pageInfo.endCursor })).channel.messages;
    });
    expect(nextCost).toBeLessThanOrEqual(3);
    expect(next.pageInfo.hasPreviousPage).toBe(true);
    const ids = new Set(nodes.map((n: any) => n.id));
    expect(next.edges.some((e: any) => ids.has(e.node.id))).toBe(false);
  });

  it('answers viewer in one statement', async () => {
    expect(await statements(() => member.ok(`{ viewer { id username displayName email createdAt messageCount ownedGuildCount } }`))).toBeLessThanOrEqual(1);
  });

  it("shows another's reaction as not the viewer's", async () => {
    const { channel } = await owner.ok<{ channel: any }>(PAGE, { c: channelId, first: 50 });
    const reacted = channel.messages.edges.flatMap((e: any) => e.node.reactions);
    expect(reacted.length).toBeGreaterThan(0);
    for (const r of reacted) expect(r.viewerReacted).toBe(false);
  });
});
