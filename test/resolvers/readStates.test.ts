import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createGuild, invite, send, signUp } from '../support/client.js';

let server: TestServer;
let alice: Client;
let bob: Client;
let guildId: string;
let generalId: string;

const CHANNEL_STATE = `query($c: ID!) { channel(id: $c) { unreadCount mentionCount } }`;
const GUILD_STATE = `query($g: ID!) { guild(id: $g) { viewerUnread { unreadChannelCount unreadMessageCount mentionCount } } }`;
const MARK = `mutation($c: ID!, $m: ID!) { markChannelRead(channelId: $c, messageId: $m) { unreadCount } }`;

const channelState = async (who: Client, c = generalId) => (await who.ok<{ channel: any }>(CHANNEL_STATE, { c })).channel;
const guildState = async (who: Client) => (await who.ok<{ guild: any }>(GUILD_STATE, { g: guildId })).guild.viewerUnread;

beforeAll(async () => {
  server = await startTestServer();
  alice = await signUp(server.graphqlUrl);
  bob = await signUp(server.graphqlUrl);
  ({ guildId, generalId } = await createGuild(alice, 'Unread'));
  await invite(alice, guildId, bob);
});
afterAll(() => server?.stop());

describe('unread state', () => {
  it('counts others’ messages since joining, and mentions of the viewer, per channel and per guild', async () => {
    expect(await channelState(bob)).toEqual({ unreadCount: 0, mentionCount: 0 });
    const { createChannel } = await alice.ok<{ createChannel: any }>(
      `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "random" }) { id } }`,
      { g: guildId },
    );
    await send(alice, generalId, 'one');
    await send(alice, generalId, `hey <@${bob.userId}>`);
    await send(alice, createChannel.id, 'elsewhere');
    expect(await channelState(bob)).toEqual({ unreadCount: 2, mentionCount: 1 });
    expect(await guildState(bob)).toEqual({ unreadChannelCount: 2, unreadMessageCount: 3, mentionCount: 1 });
    // your own messages are never unread to you
    expect(await channelState(alice)).toEqual({ unreadCount: 0, mentionCount: 0 });
  });

  it('moves the read marker forward only', async () => {
    const first = await send(alice, generalId, 'first');
    const second = await send(alice, generalId, 'second');
    const { markChannelRead } = await bob.ok<{ markChannelRead: any }>(MARK, { c: generalId, m: second });
    expect(markChannelRead.unreadCount).toBe(0);
    const back = await bob.ok<{ markChannelRead: any }>(MARK, { c: generalId, m: first });
    expect(back.markChannelRead.unreadCount).toBe(0);
    await send(alice, generalId, 'third');
    expect((await channelState(bob)).unreadCount).toBe(1);
  });

  it('counts a sender’s channel as read up to their own message', async () => {
    await send(alice, generalId, 'from alice');
    await send(bob, generalId, 'bob replies');
    expect((await channelState(bob)).unreadCount).toBe(0);
  });

  it('refuses a message of another channel, and answers null for a non-member', async () => {
    const other = await createGuild(alice, 'Other');
    const elsewhere = await send(alice, other.generalId, 'not here');
    const err = await bob.fails('BAD_USER_INPUT', MARK, { c: generalId, m: elsewhere });
    expect(err.extensions?.field).toBe('messageId');
    await alice.ok(`mutation($g: ID!) { updateGuild(id: $g, input: { isPublic: true }) { id } }`, { g: other.guildId });
    const { guild } = await bob.ok<{ guild: any }>(`query($g: ID!) { guild(id: $g) { viewerUnread { unreadMessageCount } } }`, {
      g: other.guildId,
    });
    expect(guild.viewerUnread).toBeNull();
  });
});
