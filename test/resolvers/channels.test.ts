// channel, createChannel, deleteChannel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { createChannel, failsOnField, guildWithMembers, send, signUp } from '../support/client.js';

const CREATE_CHANNEL = `mutation($input: CreateChannelInput!) {
  createChannel(input: $input) { id name type topic position guild { id } }
}`;
const CHANNEL = `query($id: ID!) { channel(id: $id) { id name type position guild { id } } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on Channel { name } } }`;
const CHANNEL_NAMES = `query($id: ID!) { guild(id: $id) { channels { name position } } }`;
const DELETE_CHANNEL = `mutation($id: ID!) { deleteChannel(id: $id) }`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

const setup = (members = 1, isPublic = false) => guildWithMembers(server.graphqlUrl, members, isPublic);

describe('createChannel', () => {
  it('the owner adds channels after #general, TEXT by default, in position order', async () => {
    const { owner, guildId } = await setup(0);
    const { createChannel: random } = await owner.ok(CREATE_CHANNEL, {
      input: { guildId, name: ' random ', topic: 'anything goes' },
    });
    expect(random).toEqual({
      id: expect.any(String),
      name: 'random',
      type: 'TEXT',
      topic: 'anything goes',
      position: 1,
      guild: { id: guildId },
    });
    const { createChannel: voice } = await owner.ok(CREATE_CHANNEL, { input: { guildId, name: 'Lounge', type: 'VOICE' } });
    expect(voice).toMatchObject({ type: 'VOICE', topic: null, position: 2 });

    expect((await owner.ok(CHANNEL_NAMES, { id: guildId })).guild.channels).toEqual([
      { name: 'general', position: 0 },
      { name: 'random', position: 1 },
      { name: 'Lounge', position: 2 },
    ]);
  });

  it('a plain member is FORBIDDEN (MANAGE_CHANNELS is not granted by @everyone)', async () => {
    const { owner, members, guildId } = await setup(1);
    const error = await members[0]!.fails('FORBIDDEN', CREATE_CHANNEL, { input: { guildId, name: 'mine' } });
    expect(error.message).toMatch(/MANAGE_CHANNELS/);
    expect((await owner.ok(CHANNEL_NAMES, { id: guildId })).guild.channels).toHaveLength(1);
  });

  it('a non-member gets NOT_FOUND, even for a public guild', async () => {
    const { guildId } = await setup(0, true);
    const stranger = await signUp(server.graphqlUrl);
    await stranger.fails('NOT_FOUND', CREATE_CHANNEL, { input: { guildId, name: 'intruder' } });
  });

  it.each([
    ['empty', ''],
    ['only whitespace', '    '],
    ['101 characters long', 'c'.repeat(101)],
  ])('refuses a name that is %s', async (_label, name) => {
    const { owner, guildId } = await setup(0);
    await failsOnField(owner, 'name', CREATE_CHANNEL, { input: { guildId, name } });
  });

  it('accepts a name of 100 characters', async () => {
    const { owner, guildId } = await setup(0);
    const { createChannel } = await owner.ok(CREATE_CHANNEL, { input: { guildId, name: 'c'.repeat(100) } });
    expect(createChannel.name).toHaveLength(100);
  });

  it('refuses a malformed guildId with BAD_USER_INPUT naming guildId', async () => {
    const { owner } = await setup(0);
    await failsOnField(owner, 'guildId', CREATE_CHANNEL, { input: { guildId: 'nope', name: 'x' } });
  });
});

describe('channel', () => {
  it('a member reads a channel by id and through node', async () => {
    const { members, guildId, generalId } = await setup(1);
    const { channel } = await members[0]!.ok(CHANNEL, { id: generalId });
    expect(channel).toEqual({ id: generalId, name: 'general', type: 'TEXT', position: 0, guild: { id: guildId } });
    expect((await members[0]!.ok(NODE, { id: generalId })).node).toEqual({ id: generalId, name: 'general' });
  });

  it('a non-member gets NOT_FOUND through channel and node', async () => {
    const { generalId } = await setup(0, true);
    const stranger = await signUp(server.graphqlUrl);
    await stranger.fails('NOT_FOUND', CHANNEL, { id: generalId });
    await stranger.fails('NOT_FOUND', NODE, { id: generalId });
  });

  it('refuses a malformed id with BAD_USER_INPUT and a guild id with NOT_FOUND', async () => {
    const { owner, guildId } = await setup(0);
    await failsOnField(owner, 'id', CHANNEL, { id: 'definitely-not-an-id' });
    await failsOnField(owner, 'id', NODE, { id: 'definitely-not-an-id' });
    await owner.fails('NOT_FOUND', CHANNEL, { id: guildId });
  });
});

describe('deleteChannel', () => {
  it('a plain member is FORBIDDEN and the channel stays', async () => {
    const { members, generalId } = await setup(1);
    await members[0]!.fails('FORBIDDEN', DELETE_CHANNEL, { id: generalId });
    expect((await members[0]!.ok(CHANNEL, { id: generalId })).channel.id).toBe(generalId);
  });

  it('a non-member gets NOT_FOUND', async () => {
    const { generalId } = await setup(0, true);
    await (await signUp(server.graphqlUrl)).fails('NOT_FOUND', DELETE_CHANNEL, { id: generalId });
  });

  it('the owner deletes a channel with its messages', async () => {
    const { owner, members, guildId } = await setup(1);
    const channelId = await createChannel(owner, guildId, 'doomed');
    const messageId = await send(members[0]!, channelId, 'last words');

    expect(await owner.ok(DELETE_CHANNEL, { id: channelId })).toEqual({ deleteChannel: channelId });

    for (const client of [owner, members[0]!]) {
      await client.fails('NOT_FOUND', CHANNEL, { id: channelId });
      await client.fails('NOT_FOUND', `query($id: ID!) { message(id: $id) { id } }`, { id: messageId });
    }
    expect((await owner.ok(CHANNEL_NAMES, { id: guildId })).guild.channels).toEqual([{ name: 'general', position: 0 }]);
    await owner.fails('NOT_FOUND', DELETE_CHANNEL, { id: channelId });
  });
});
