// Who is here: channelActivity holds a channel open while it lives; its first event is the
// list of everyone with the channel open, then arrivals and departures; Channel.activeUsers
// answers the same question as a query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicPayload } from '../../src/pubsub/topics.js';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, guildWithMembers, localId, signUp } from '../support/client.js';
import { type Subscription, subscribe, wsClient } from '../support/ws.js';

const ACTIVITY = `subscription($c: ID!) { channelActivity(channelId: $c) {
  channelId users { id username avatarUrl } joined { id } left { id }
} }`;
const ACTIVE_USERS = `query($c: ID!) { channel(id: $c) { activeUsers { id } } }`;

type ActivityEvent = { channelActivity: { channelId: string; users: { id: string }[]; joined: { id: string }[]; left: { id: string }[] } };

let server: TestServer;
const sockets: ReturnType<typeof wsClient>[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await Promise.all(sockets.map((s) => s.dispose()));
  await server?.stop();
});

function open(client: Client, channelId: string): Subscription<ActivityEvent> {
  const ws = wsClient(server.wsUrl, client.token);
  sockets.push(ws);
  return subscribe<ActivityEvent>(ws, ACTIVITY, { c: channelId });
}

const ids = (users: { id: string }[]) => users.map((u) => u.id);
// the server lists users by their id, which the global id's base64 does not keep in order
const sorted = (...clients: Client[]) => clients.map((c) => c.userId!).sort((a, b) => (localId(a) < localId(b) ? -1 : 1));

async function activeUsers(client: Client, channelId: string) {
  return ids((await client.ok<{ channel: any }>(ACTIVE_USERS, { c: channelId })).channel.activeUsers);
}

describe('channelActivity', () => {
  it('starts with everyone who has the channel open, then tells arrivals and departures', async () => {
    const { owner, members, generalId } = await guildWithMembers(server.graphqlUrl, 2);
    const [alice, bob] = members as [Client, Client];

    const ownerSub = open(owner, generalId);
    expect((await ownerSub.next()).channelActivity).toEqual({
      channelId: generalId,
      users: [{ id: owner.userId, username: owner.username, avatarUrl: null }],
      joined: [],
      left: [],
    });
    const aliceSub = open(alice, generalId);
    const first = (await aliceSub.next()).channelActivity;
    expect(ids(first.users)).toEqual(sorted(owner, alice));
    expect(first.joined).toEqual([]);

    const arrival = (await ownerSub.nextMatching((e) => e.channelActivity.joined.length > 0)).channelActivity;
    expect(ids(arrival.joined)).toEqual([alice.userId]);
    expect(ids(arrival.users)).toEqual(sorted(owner, alice));
    expect(await activeUsers(bob, generalId)).toEqual(sorted(owner, alice));

    aliceSub.close();
    const departure = (await ownerSub.nextMatching((e) => e.channelActivity.left.length > 0)).channelActivity;
    expect(ids(departure.left)).toEqual([alice.userId]);
    expect(ids(departure.users)).toEqual([owner.userId]);
    expect(await activeUsers(bob, generalId)).toEqual([owner.userId]);
    ownerSub.close();
  });

  it('counts a user with the channel open in several tabs once, until the last one closes', async () => {
    const { owner, members, generalId } = await guildWithMembers(server.graphqlUrl, 2);
    const [alice, bob] = members as [Client, Client];
    const ownerSub = open(owner, generalId);
    await ownerSub.next();
    const tab1 = open(alice, generalId);
    await tab1.next();
    expect(ids((await ownerSub.next()).channelActivity.joined)).toEqual([alice.userId]);
    const tab2 = open(alice, generalId);
    expect(ids((await tab2.next()).channelActivity.users)).toEqual(sorted(owner, alice));

    tab1.close();
    // the next thing the owner hears is Bob arriving: Alice neither arrived twice nor left
    const bobSub = open(bob, generalId);
    const next = (await ownerSub.next()).channelActivity;
    expect(ids(next.joined)).toEqual([bob.userId]);
    expect(ids(next.users)).toEqual(sorted(owner, alice, bob));

    tab2.close();
    expect(ids((await ownerSub.next()).channelActivity.left)).toEqual([alice.userId]);
    for (const s of [ownerSub, bobSub]) s.close();
  });

  it('ends when the user leaves the guild, and the others see them go', async () => {
    const { owner, members, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 1);
    const leaver = members[0]!;
    const ownerSub = open(owner, generalId);
    await ownerSub.next();
    const leaverSub = open(leaver, generalId);
    await leaverSub.next();
    await ownerSub.nextMatching((e) => e.channelActivity.joined.length > 0);
    await leaver.ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId });
    await leaverSub.completed;
    expect(ids((await ownerSub.nextMatching((e) => e.channelActivity.left.length > 0)).channelActivity.left)).toEqual([leaver.userId]);
    expect(await activeUsers(owner, generalId)).toEqual([owner.userId]);
    ownerSub.close();
  });

  it('delivers an arrival to every subscriber without a database query', async () => {
    const { owner, members, generalId } = await guildWithMembers(server.graphqlUrl, 3);
    const subs = [owner, ...members].map((c) => open(c, generalId));
    await Promise.all(subs.map((s) => s.next()));
    await waitForListener(server, 'channelActivity', localId(generalId), subs.length);
    const latecomer = await signUp(server.graphqlUrl);
    const payload: TopicPayload<'channelActivity'> = {
      channelId: localId(generalId),
      users: [],
      joined: [{ id: localId(latecomer.userId!), username: latecomer.username!, displayName: 'Late', createdAt: new Date().toISOString(), profile: { bio: null, avatarName: null, customStatus: null } }],
      left: [],
    };
    const before = server.app.db.queries.count;
    await server.app.pubsub.publish('channelActivity', localId(generalId), payload);
    for (const sub of subs) {
      expect((await sub.nextMatching((e) => e.channelActivity.joined.some((u) => u.id === latecomer.userId))).channelActivity.users).toEqual([]);
    }
    expect(server.app.db.queries.count - before).toBe(0);
    for (const s of subs) s.close();
  });
});

describe('who may see who is here', () => {
  let owner: Client;
  let member: Client;
  let stranger: Client;
  let channelId: string;

  beforeAll(async () => {
    const made = await guildWithMembers(server.graphqlUrl, 1);
    ({ owner, generalId: channelId } = made);
    member = made.members[0]!;
    stranger = await signUp(server.graphqlUrl);
  });

  it.each([
    ['owner', () => owner, true],
    ['member', () => member, true],
    ['stranger', () => stranger, false],
  ] as const)('%s', async (_who, client, allowed) => {
    const sub = open(client(), channelId);
    if (allowed) {
      expect(ids((await sub.next()).channelActivity.users)).toContain(client().userId);
      expect(await activeUsers(client(), channelId)).toContain(client().userId);
      sub.close();
    } else {
      expect((await sub.errors)[0]?.extensions?.code).toBe('NOT_FOUND');
      await client().fails('NOT_FOUND', ACTIVE_USERS, { c: channelId });
      // nor did the attempt count them in
      expect(await activeUsers(owner, channelId)).not.toContain(client().userId);
    }
  });
});
