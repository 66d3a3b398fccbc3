// sendMessage's nonce: a client whose answer was lost sends again and gets the first message,
// never a second one, also when the retries race each other on two instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, usingPostgres, waitForListener } from '../support/app.js';
import { type Client, clientWithToken, createGuild, failsOnField, invite, localId, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content nonce author { id } } }`;

let server: TestServer;
/** a second instance on the same database where there is a shared one (PostgreSQL + Redis) */
let other: TestServer | undefined;
let owner: Client;
let member: Client;
let channelId: string;

beforeAll(async () => {
  server = await startTestServer();
  if (usingPostgres) other = await startTestServer({ databaseUrl: server.databaseUrl });
  owner = await signUp(server.graphqlUrl);
  member = await signUp(server.graphqlUrl);
  let guildId: string;
  ({ guildId, generalId: channelId } = await createGuild(owner, 'Retries'));
  await invite(owner, guildId, member);
});
afterAll(async () => {
  await other?.stop();
  await server?.stop();
});

const history = async () =>
  (
    await owner.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { messages(first: 100) { edges { node { id content nonce } } } } }`, {
      c: channelId,
    })
  ).channel.messages.edges.map((e: any) => e.node);

/** The same signed-in person, talking to another instance. */
const through = (client: Client, target: TestServer) => clientWithToken(target.graphqlUrl, client.token);

describe('sendMessage with a nonce', () => {
  it('returns the first message to a retry, stores one, and publishes one event with the nonce', async () => {
    const ws = wsClient(server.wsUrl, member.token);
    const sub = subscribe<{ messageAdded: any }>(ws, `subscription($c: ID!) { messageAdded(channelId: $c) { id nonce content } }`, {
      c: channelId,
    });
    await waitForListener(server, 'messageAdded', localId(channelId));
    const input = { channelId, content: 'sent once, asked twice', nonce: 'retry-1' };
    const first = (await owner.ok<{ sendMessage: any }>(SEND, { input })).sendMessage;
    const retry = (await owner.ok<{ sendMessage: any }>(SEND, { input })).sendMessage;
    expect(first).toMatchObject({ content: input.content, nonce: 'retry-1', author: { id: owner.userId } });
    expect(retry).toEqual(first);

    expect((await sub.next()).messageAdded).toEqual({ id: first.id, nonce: 'retry-1', content: input.content });
    const sentinel = (await owner.ok<{ sendMessage: any }>(SEND, { input: { channelId, content: 'after' } })).sendMessage;
    expect((await sub.next()).messageAdded.id).toBe(sentinel.id);
    expect((await history()).filter((m: any) => m.nonce === 'retry-1')).toHaveLength(1);
    sub.close();
    await ws.dispose();
  });

  it('keeps nonces apart per sender', async () => {
    const mine = (await owner.ok<{ sendMessage: any }>(SEND, { input: { channelId, content: 'a', nonce: 'shared' } })).sendMessage;
    const theirs = (await member.ok<{ sendMessage: any }>(SEND, { input: { channelId, content: 'b', nonce: 'shared' } })).sendMessage;
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs.author.id).toBe(member.userId);
  });

  it('answers ten racing sends of one nonce with the same message, on every instance', async () => {
    const input = { channelId, content: 'raced', nonce: 'race-1' };
    const senders = Array.from({ length: 10 }, (_, i) => (other && i % 2 ? through(owner, other) : owner));
    const answers = await Promise.all(senders.map((s) => s.request<{ sendMessage: any }>(SEND, { input })));
    for (const a of answers) expect(a.errors, JSON.stringify(a.errors)).toBeUndefined();
    const ids = new Set(answers.map((a) => a.data!.sendMessage.id));
    expect(ids.size).toBe(1);
    expect((await history()).filter((m: any) => m.nonce === 'race-1')).toHaveLength(1);
  });

  it('stores a new message for a nonce whose window has passed', async () => {
    const input = { channelId, content: 'old nonce', nonce: 'yesterday' };
    const first = (await owner.ok<{ sendMessage: any }>(SEND, { input })).sendMessage;
    await server.app.db.prisma.messageNonce.updateMany({
      where: { nonce: 'yesterday' },
      data: { createdAt: new Date(Date.now() - 25 * 3600 * 1000) },
    });
    const later = (await owner.ok<{ sendMessage: any }>(SEND, { input })).sendMessage;
    expect(later.id).not.toBe(first.id);
    expect(later.nonce).toBe('yesterday');
  });

  it('refuses a nonce that is empty or longer than 64 characters', async () => {
    for (const nonce of ['', 'n'.repeat(65)]) {
      await failsOnField(owner, 'nonce', SEND, { input: { channelId, content: 'x', nonce } });
    }
  });

  it('stores nothing for a reply to a message of another channel, nonce or not', async () => {
    const { createChannel } = await owner.ok<{ createChannel: { id: string } }>(
      `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "elsewhere" }) { id } }`,
      { g: (await owner.ok<{ channel: any }>(`query($c: ID!) { channel(id: $c) { guild { id } } }`, { c: channelId })).channel.guild.id },
    );
    const elsewhere = (await owner.ok<{ sendMessage: any }>(SEND, { input: { channelId: createChannel.id, content: 'there' } })).sendMessage;
    await failsOnField(owner, 'replyToId', SEND, { input: { channelId, content: 'reply', replyToId: elsewhere.id, nonce: 'bad-reply' } });
    // the nonce was not used up by the refused send
    const ok = (await owner.ok<{ sendMessage: any }>(SEND, { input: { channelId, content: 'fine', nonce: 'bad-reply' } })).sendMessage;
    expect(ok.content).toBe('fine');
  });
});
