import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, invite, localId, send, signUp } from '../support/client.js';
import { subscribe, wsClient } from '../support/ws.js';

const GUILD_EVENTS = `subscription($g: ID!) {
  guildEvents(guildId: $g) {
    __typename
    ... on MemberJoinedEvent { user { username } }
    ... on MemberLeftEvent { user { username } reason }
    ... on ChannelCreatedEvent { channel { id name type } }
    ... on ChannelUpdatedEvent { channel { id name topic } }
    ... on ChannelDeletedEvent { channelId }
    ... on GuildUpdatedEvent { guild { name isPublic } }
    ... on GuildDeletedEvent { guildId }
  }
}`;

let server: TestServer;
let owner: Client;

beforeAll(async () => {
  server = await startTestServer();
  owner = await signUp(server.graphqlUrl);
});
afterAll(() => server?.stop());

describe('guildEvents', () => {
  it('tells members about joins, leaves, channels, settings and the deletion, then completes', async () => {
    const { guildId } = await createGuild(owner, 'Eventful');
    const ws = wsClient(server.wsUrl, owner.token);
    const sub = subscribe<{ guildEvents: any }>(ws, GUILD_EVENTS, { g: guildId });
    await waitForListener(server, 'guildEvent', localId(guildId));

    const joiner = await signUp(server.graphqlUrl);
    await invite(owner, guildId, joiner);
    expect((await sub.next()).guildEvents).toEqual({ __typename: 'MemberJoinedEvent', user: { username: joiner.username } });

    const { createChannel } = await owner.ok<{ createChannel: any }>(
      `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "voice", type: VOICE }) { id } }`,
      { g: guildId },
    );
    expect((await sub.next()).guildEvents).toEqual({
      __typename: 'ChannelCreatedEvent',
      channel: { id: createChannel.id, name: 'voice', type: 'VOICE' },
    });
    await owner.ok(`mutation($c: ID!) { updateChannel(id: $c, input: { topic: "talk" }) { id } }`, { c: createChannel.id });
    expect((await sub.next()).guildEvents).toMatchObject({ __typename: 'ChannelUpdatedEvent', channel: { topic: 'talk' } });
    await owner.ok(`mutation($c: ID!) { deleteChannel(id: $c) }`, { c: createChannel.id });
    expect((await sub.next()).guildEvents).toEqual({ __typename: 'ChannelDeletedEvent', channelId: createChannel.id });

    await owner.ok(`mutation($g: ID!, $u: ID!) { kickMember(guildId: $g, userId: $u) }`, { g: guildId, u: joiner.userId });
    expect((await sub.next()).guildEvents).toEqual({
      __typename: 'MemberLeftEvent',
      user: { username: joiner.username },
      reason: 'KICKED',
    });

    await owner.ok(`mutation($g: ID!) { updateGuild(id: $g, input: { name: "Renamed", isPublic: true }) { id } }`, { g: guildId });
    expect((await sub.next()).guildEvents).toEqual({ __typename: 'GuildUpdatedEvent', guild: { name: 'Renamed', isPublic: true } });

    await owner.ok(`mutation($g: ID!) { deleteGuild(id: $g) }`, { g: guildId });
    expect((await sub.next()).guildEvents).toEqual({ __typename: 'GuildDeletedEvent', guildId });
    await sub.completed;
    await ws.dispose();
  });

  it('is refused to non-members and ends for a member who leaves', async () => {
    const { guildId } = await createGuild(owner, 'Private');
    const member = await signUp(server.graphqlUrl);
    const stranger = await signUp(server.graphqlUrl);
    const strangerWs = wsClient(server.wsUrl, stranger.token);
    expect((await subscribe(strangerWs, GUILD_EVENTS, { g: guildId }).errors)[0]?.extensions?.code).toBe('NOT_FOUND');
    await strangerWs.dispose();

    await invite(owner, guildId, member);
    const ws = wsClient(server.wsUrl, member.token);
    const sub = subscribe(ws, GUILD_EVENTS, { g: guildId });
    await waitForListener(server, 'guildEvent', localId(guildId));
    await member.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId });
    await sub.completed;
    expect(sub.pending()).toEqual([]);
    await ws.dispose();
  });
});

describe('mentionAdded', () => {
  it('delivers messages that mention the viewer, and only those', async () => {
    const { guildId, generalId } = await createGuild(owner, 'Mentions');
    const friend = await signUp(server.graphqlUrl);
    await invite(owner, guildId, friend);
    const ws = wsClient(server.wsUrl, friend.token);
    const sub = subscribe<{ mentionAdded: any }>(ws, `subscription { mentionAdded { id content channel { id } } }`);
    await waitForListener(server, 'userEvent', localId(friend.userId!));
    await send(owner, generalId, 'nobody in particular');
    const id = await send(owner, generalId, `ping <@${friend.userId}>`);
    expect((await sub.next()).mentionAdded).toEqual({ id, content: `ping <@${friend.userId}>`, channel: { id: generalId } });
    expect(sub.pending()).toEqual([]);
    sub.close();
    await ws.dispose();
  });
});
