// The shared delivery path as subscribers see it: events answered from what they carry (no
// database query per delivery, however many subscribers), one execution per cohort, answers
// that depend on the viewer still per viewer, and exactly-once in order while a cohort churns.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TopicName, TopicPayload, Topics } from '../../../src/pubsub/topics.js';
import { type TestServer, startTestServer, waitForListener } from '../../support/app.js';
import { type Client, guildWithMembers, localId, send } from '../../support/client.js';
import { type Subscription, subscribe, wsClient } from '../../support/ws.js';

const EVERYTHING_CARRIED = `subscription($c: ID!) { messageAdded(channelId: $c) {
  id content createdAt editedAt
  author { id username displayName createdAt }
  channel { id name topic position type createdAt }
  attachments { id fileName contentType size url }
  mentions { id username displayName }
  replyTo { id content createdAt author { id username } attachments { id } }
  reactions { emoji count }
} }`;

const WITH_VIEWER_REACTED = `subscription($c: ID!) { messageUpdated(channelId: $c) {
  id reactions { emoji count viewerReacted }
} }`;

let server: TestServer;
let owner: Client;
let members: Client[];
let guildId: string;
let channelId: string;
const clients: ReturnType<typeof wsClient>[] = [];
let open: Subscription<unknown>[] = [];

beforeAll(async () => {
  server = await startTestServer();
  ({ owner, members, guildId, generalId: channelId } = await guildWithMembers(server.graphqlUrl, 6));
  // Coming online is announced from the database. One socket per member stays open all along,
  // and every member is announced before anything is counted: later sockets come and go
  // without changing anyone's presence.
  const announced = new Set<string>();
  let unlisten: (() => Promise<void>) | undefined;
  const allOnline = new Promise<void>((resolve) => {
    void server.app.pubsub
      .listen('presence', localId(guildId), ({ status, user }) => {
        if (status === 'ONLINE') announced.add(user.id);
        if (announced.size === members.length) resolve();
      })
      .then((stop) => (unlisten = stop));
  });
  for (const member of members) clients.push(wsClient(server.wsUrl, member.token, { lazy: false }));
  await allOnline;
  await unlisten?.();
});
afterEach(async () => {
  // a failed test leaves its subscriptions open: the next test starts from none all the same
  if (open.length) await closeAll(open);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await server?.stop();
});

/** One socket per member (distinct users, as cohorts meet them), each subscribed to `query`. */
async function subscribeAll<T>(who: Client[], query: string, variables: Record<string, unknown>, topic: TopicName, key: string) {
  const before = await server.app.pubsub.listenerCount(topic as 'messageAdded', key);
  const subs = who.map((member) => {
    const ws = wsClient(server.wsUrl, member.token);
    clients.push(ws);
    return subscribe<T>(ws, query, variables);
  });
  open.push(...subs);
  await waitForListener(server, topic, key, before + who.length);
  return subs;
}

/** The next payload published on a topic key, as another instance would hand it over. */
function capture<T extends TopicName>(topic: T, key: Topics[T][0]): Promise<TopicPayload<T>> {
  return new Promise((resolve) => {
    let stop: (() => Promise<void>) | undefined;
    void server.app.pubsub
      .listen(topic, key, (payload) => {
        resolve(payload);
        void stop?.();
      })
      .then((unlisten) => {
        stop = unlisten;
      });
  });
}

async function queriesDuring(deliver: () => Promise<unknown>): Promise<number> {
  const before = server.app.db.queries.count;
  await deliver();
  return server.app.db.queries.count - before;
}

/** Closes the subscriptions and waits until the server has let go of all of them. */
async function closeAll(subs: Subscription<unknown>[]) {
  subs.forEach((s) => s.close());
  open = open.filter((s) => !subs.includes(s));
  const deadline = Date.now() + 10_000;
  while (server.app.websocket.stats().subscriptions > 0) {
    if (Date.now() > deadline) throw new Error('subscriptions were not released');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('delivering an event', () => {
  it('answers every field a message event carries without a database query, for any number of subscribers', async () => {
    const channel = localId(channelId);
    const target = await send(owner, channelId, 'the message replied to');
    const published = capture('messageAdded', channel);
    const { sendMessage } = await owner.ok<{ sendMessage: { id: string } }>(
      `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
      { input: { channelId, content: `hey <@${members[0]!.userId}>`, replyToId: target } },
    );
    const snapshot = await published;

    const subs = await subscribeAll<{ messageAdded: any }>(members, EVERYTHING_CARRIED, { c: channelId }, 'messageAdded', channel);
    let events: { messageAdded: any }[] = [];
    const queries = await queriesDuring(async () => {
      await server.app.pubsub.publish('messageAdded', channel, snapshot);
      events = await Promise.all(subs.map((s) => s.next()));
    });
    expect(queries).toBe(0);
    expect(events).toHaveLength(members.length);
    for (const { messageAdded } of events) {
      expect(messageAdded).toMatchObject({
        id: sendMessage.id,
        author: { id: owner.userId, username: owner.username },
        channel: { id: channelId, name: 'general', type: 'TEXT' },
        mentions: [{ id: members[0]!.userId, username: members[0]!.username }],
        replyTo: { id: target, content: 'the message replied to', author: { id: owner.userId } },
        reactions: [],
        attachments: [],
      });
    }
    await closeAll(subs);
  });

  it('answers typing, presence and guild events without a database query', async () => {
    const channel = localId(channelId);
    const guild = localId(guildId);
    const typingSubs = await subscribeAll<{ typing: any }>(
      members.slice(1),
      `subscription($c: ID!) { typing(channelId: $c) { channelId isTyping expiresAt user { id username displayName createdAt } } }`,
      { c: channelId },
      'typing',
      channel,
    );
    const typing = capture('typing', channel);
    await members[0]!.ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId });
    const typingEvent = await typing;
    await Promise.all(typingSubs.map((s) => s.next()));
    expect(
      await queriesDuring(async () => {
        await server.app.pubsub.publish('typing', channel, typingEvent);
        return Promise.all(typingSubs.map((s) => s.next()));
      }),
    ).toBe(0);
    await closeAll(typingSubs);

    const guildSubs = await subscribeAll<{ guildEvents: any }>(
      members,
      `subscription($g: ID!) { guildEvents(guildId: $g) { __typename
        ... on ChannelCreatedEvent { channel { id name topic position type createdAt } }
        ... on MemberJoinedEvent { guildId user { id username displayName } } } }`,
      { g: guildId },
      'guildEvent',
      guild,
    );
    const guildEvent = capture('guildEvent', guild);
    await owner.ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "carried" }) { id } }`, { g: guildId });
    const created = await guildEvent;
    await Promise.all(guildSubs.map((s) => s.next()));
    expect(
      await queriesDuring(async () => {
        await server.app.pubsub.publish('guildEvent', guild, created);
        return Promise.all(guildSubs.map((s) => s.next()));
      }),
    ).toBe(0);
    await closeAll(guildSubs);

    const presenceSubs = await subscribeAll<{ presence: any }>(
      members.slice(1),
      `subscription($g: ID!) { presence(guildId: $g) { guildId status user { id username } } }`,
      { g: guildId },
      'presence',
      guild,
    );
    // as another instance publishes it when members[0] changes status
    const presenceEvent = {
      guildId: guild,
      status: 'IDLE' as const,
      user: { id: localId(members[0]!.userId!), username: members[0]!.username!, displayName: members[0]!.username!, createdAt: new Date().toISOString() },
    };
    expect(
      await queriesDuring(async () => {
        await server.app.pubsub.publish('presence', guild, presenceEvent);
        return Promise.all(presenceSubs.map((s) => s.next()));
      }),
    ).toBe(0);
    await closeAll(presenceSubs);
  });

  it('executes an event once for a cohort of subscribers that share document and variables', async () => {
    const channel = localId(channelId);
    const subs = await subscribeAll<{ messageAdded: any }>(members, EVERYTHING_CARRIED, { c: channelId }, 'messageAdded', channel);
    const before = server.app.websocket.stats().executions;
    const id = await send(owner, channelId, 'one execution for all');
    const events = await Promise.all(subs.map((s) => s.next()));
    expect(events.map((e) => e.messageAdded.id)).toEqual(members.map(() => id));
    expect(server.app.websocket.stats().executions - before).toBe(1);
    await closeAll(subs);
  });

  it('executes per viewer a document that selects what depends on the viewer, and answers each correctly', async () => {
    const channel = localId(channelId);
    const id = await send(owner, channelId, 'react to me');
    const subs = await subscribeAll<{ messageUpdated: any }>(members, WITH_VIEWER_REACTED, { c: channelId }, 'messageUpdated', channel);
    const before = server.app.websocket.stats().executions;
    await members[0]!.ok(`mutation($m: ID!) { addReaction(messageId: $m, emoji: "👍") { id } }`, { m: id });
    const events = await Promise.all(subs.map((s) => s.next()));
    expect(server.app.websocket.stats().executions - before).toBe(members.length);
    events.forEach((event, i) => {
      expect(event.messageUpdated).toEqual({ id, reactions: [{ emoji: '👍', count: 1, viewerReacted: i === 0 }] });
    });
    await closeAll(subs);
  });
});

describe('a cohort whose members come and go', () => {
  it('gives every subscriber each event exactly once and in order', async () => {
    const channel = localId(channelId);
    const QUERY = `subscription($c: ID!) { messageAdded(channelId: $c) { id content author { username } } }`;
    const stayers = await subscribeAll<{ messageAdded: any }>(members.slice(0, 3), QUERY, { c: channelId }, 'messageAdded', channel);
    const churners = members.slice(3).map((member) => {
      const ws = wsClient(server.wsUrl, member.token);
      clients.push(ws);
      return ws;
    });
    const seenByChurners: string[][] = churners.map(() => []);
    let sending = true;
    // each churner subscribes, reads a little, leaves, and comes back, all while sends go on
    const churning = churners.map(async (ws, i) => {
      while (sending) {
        const sub = subscribe<{ messageAdded: any }>(ws, QUERY, { c: channelId });
        try {
          for (let k = 0; k < 2 && sending; k++) seenByChurners[i]!.push((await sub.next(2_000)).messageAdded.id);
        } catch {
          // no event within the wait: the sends are over
        }
        sub.close();
      }
    });
    const sent: string[] = [];
    for (let n = 0; n < 40; n++) sent.push(await send(owner, channelId, `churn ${n}`));
    const received = await Promise.all(
      stayers.map(async (s) => {
        const ids: string[] = [];
        while (ids.length < sent.length) ids.push((await s.next(10_000)).messageAdded.id);
        return ids;
      }),
    );
    sending = false;
    await Promise.all(churning);
    for (const ids of received) expect(ids).toEqual(sent);
    for (const ids of seenByChurners) {
      // a subscription's events are in send order with no duplicate; each one restarts later
      const positions = ids.map((id) => sent.indexOf(id));
      expect(positions).not.toContain(-1);
      expect(positions).toEqual([...new Set(positions)].sort((a, b) => a - b));
    }
    expect(seenByChurners.flat().length).toBeGreaterThan(0);
    await closeAll(stayers);
  });
});
