import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, invite, localId, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

let server: TestServer;
let alice: Client;
let bob: Client;
let stranger: Client;
let channelId: string;

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id mentions { username } } }`;
const REACT = `mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { reactions { emoji count viewerReacted } } }`;
const UNREACT = `mutation($m: ID!, $e: String!) { removeReaction(messageId: $m, emoji: $e) { reactions { emoji count viewerReacted } } }`;

beforeAll(async () => {
  server = await startTestServer();
  alice = await signUp(server.graphqlUrl);
  bob = await signUp(server.graphqlUrl);
  stranger = await signUp(server.graphqlUrl);
  const g = await createGuild(alice, 'Reacts');
  channelId = g.generalId;
  await invite(alice, g.guildId, bob);
});
afterAll(() => server?.stop());

describe('mentions', () => {
  it('records mentions of members only', async () => {
    const { sendMessage } = await alice.ok<{ sendMessage: any }>(SEND, {
      input: { channelId, content: `hey <@${bob.userId}> and <@${stranger.userId}>` },
    });
    expect(sendMessage.mentions).toEqual([{ username: bob.username }]);
  });
});

describe('reactions', () => {
  it('groups reactions per emoji, one per user, live to messageUpdated subscribers', async () => {
    const { sendMessage } = await alice.ok<{ sendMessage: any }>(SEND, { input: { channelId, content: 'react to me' } });
    const ws = wsClient(server.wsUrl, alice.token);
    const sub = subscribe<{ messageUpdated: any }>(
      ws,
      `subscription($c: ID!) { messageUpdated(channelId: $c) { id reactions { emoji count } } }`,
      { c: channelId },
    );
    await waitForListener(server, 'messageUpdated', localId(channelId));

    await bob.ok(REACT, { m: sendMessage.id, e: '👍' });
    expect((await sub.next()).messageUpdated.reactions).toEqual([{ emoji: '👍', count: 1 }]);
    await bob.ok(REACT, { m: sendMessage.id, e: '👍' });
    const both = (await alice.ok<{ addReaction: any }>(REACT, { m: sendMessage.id, e: '👍' })).addReaction;
    expect(both.reactions).toEqual([{ emoji: '👍', count: 2, viewerReacted: true }]);
    const afterRemove = (await bob.ok<{ removeReaction: any }>(UNREACT, { m: sendMessage.id, e: '👍' })).removeReaction;
    expect(afterRemove.reactions).toEqual([{ emoji: '👍', count: 1, viewerReacted: false }]);
    sub.close();
    await ws.dispose();
  });

  it('shows each message of a page its own reactions', async () => {
    const g = await createGuild(alice, 'Page');
    await invite(alice, g.guildId, bob);
    const ids: string[] = [];
    for (const content of ['a', 'b', 'c']) {
      ids.push((await alice.ok<{ sendMessage: any }>(SEND, { input: { channelId: g.generalId, content } })).sendMessage.id);
    }
    await bob.ok(REACT, { m: ids[0], e: '🎉' });
    await alice.ok(REACT, { m: ids[2], e: '👀' });
    await bob.ok(REACT, { m: ids[2], e: '👀' });
    await bob.ok(REACT, { m: ids[2], e: '🔥' });
    const { channel } = await bob.ok<{ channel: any }>(
      `query($c: ID!) { channel(id: $c) { messages { edges { node { content reactions { emoji count viewerReacted } } } } } }`,
      { c: g.generalId },
    );
    expect(channel.messages.edges.map((e: any) => e.node)).toEqual([
      {
        content: 'c',
        reactions: [
          { emoji: '👀', count: 2, viewerReacted: true },
          { emoji: '🔥', count: 1, viewerReacted: true },
        ],
      },
      { content: 'b', reactions: [] },
      { content: 'a', reactions: [{ emoji: '🎉', count: 1, viewerReacted: true }] },
    ]);
  });

  it('refuses strangers and empty emoji', async () => {
    const { sendMessage } = await alice.ok<{ sendMessage: any }>(SEND, { input: { channelId, content: 'private' } });
    await stranger.fails('NOT_FOUND', REACT, { m: sendMessage.id, e: '👍' });
    const err = await bob.fails('BAD_USER_INPUT', REACT, { m: sendMessage.id, e: '  ' });
    expect(err.extensions?.field).toBe('emoji');
  });
});
