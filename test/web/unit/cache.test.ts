// The web client's cache rules (web/src/lib/cache.ts) on urql's real graphcache, fed by a
// scripted exchange instead of a server: history pages merge without duplicates, live messages
// land once at the head whether they come from the send's response or the subscription, a
// deletion leaves every page, typing and presence update the lists, and a resumed
// subscription starts from the newest message held. And sending with a nonce (web/src/lib/sends.ts):
// the pending message is replaced by the server's copy whether the send's answer or its
// messageAdded event comes first, never shown twice nor missing in between, and a retry sends
// the same nonce again.
import type { Client as ClientType, Exchange, Operation, OperationResult } from '@urql/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from '../support/browser.js';

type CacheModule = typeof import('../../../web/src/lib/cache');
let cache: CacheModule;
let sends: typeof import('../../../web/src/lib/sends');
let urql: typeof import('@urql/core');
let wonka: typeof import('wonka');
let graphcache: typeof import('@urql/exchange-graphcache');

beforeAll(async () => {
  ensureWebBuild(); // web/src/gql is generated
  cache = await import('../../../web/src/lib/cache');
  sends = await import('../../../web/src/lib/sends');
  urql = await import('@urql/core');
  wonka = await import('wonka');
  graphcache = await import('@urql/exchange-graphcache');
}, 180_000);

const CHANNEL = 'Channel:1';
const VIEWER = 'me';
const author = (id: string) => ({ __typename: 'User', id });
const msg = (n: number, nonce: string | null = null, by = 'someone') => ({
  __typename: 'Message',
  id: `m${n}`,
  content: `message ${n}`,
  nonce,
  author: author(by),
});
/** the fields every message document below selects */
const FIELDS = 'id content nonce author { id }';
const edge = (n: number) => ({ __typename: 'MessageEdge', cursor: `m${n}`, node: msg(n) });
const page = (ns: number[], hasNextPage: boolean) => ({
  __typename: 'MessageConnection',
  edges: ns.map(edge),
  pageInfo: { __typename: 'PageInfo', hasNextPage, endCursor: `m${ns.at(-1)}` },
});

/** A client over graphcache whose "server" answers from `pages` and lets the test push events. */
function setup(pages: Record<string, ReturnType<typeof page>>) {
  const { Client, makeResult, gql } = urql;
  const { filter, makeSubject, map, merge, pipe, share } = wonka;
  const events = makeSubject<OperationResult>();
  const subscriptions = new Map<string, Operation>();
  let mutationResponse: Record<string, unknown> = {};
  /** answers a mutation when the test says so (`answerMutations`), or at once */
  let answering: ((op: Operation) => Promise<OperationResult>) | null = null;
  const mutations: Operation[] = [];
  const scripted: Exchange = () => (ops$) => {
    const shared = pipe(ops$, share);
    return merge([
      pipe(
        shared,
        filter((op) => op.kind === 'query'),
        map((op) => {
          const vars = op.variables as { after?: string | null };
          const messages = pages[vars.after ?? 'first'];
          return makeResult(op, { data: { channel: { __typename: 'Channel', id: CHANNEL, messages, typingUsers: [] } } });
        }),
      ),
      pipe(
        shared,
        filter((op) => op.kind === 'mutation'),
        wonka.mergeMap((op) => {
          mutations.push(op);
          return answering ? wonka.fromPromise(answering(op)) : wonka.fromValue(makeResult(op, { data: mutationResponse }));
        }),
      ),
      pipe(
        shared,
        filter((op) => op.kind === 'subscription'),
        map((op) => {
          subscriptions.set(op.query.definitions.map((d) => ('name' in d ? d.name?.value : '')).join(), op);
          return null;
        }),
        filter((x): x is never => x !== null),
      ),
      events.source,
    ]);
  };
  const client: ClientType = new Client({
    url: 'http://test/graphql',
    exchanges: [graphcache.cacheExchange(cache.cacheConfig), scripted],
    requestPolicy: 'cache-first',
  });
  const History = gql`
    query History($channelId: ID!, $first: Int!, $after: String) {
      channel(id: $channelId) {
        id
        messages(first: $first, after: $after) {
          edges {
            cursor
            node {
              id
              content
              nonce
              author {
                id
              }
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  `;
  const vars = { channelId: CHANNEL, first: cache.MESSAGE_PAGE_SIZE };
  const history = () =>
    (
      client.readQuery(History, vars)?.data as {
        channel: { messages: { edges: { node: { id: string; nonce: string | null; author: { id: string } } }[]; pageInfo: { hasNextPage: boolean } } };
      }
    ).channel.messages;
  const ids = () => history().edges.map((e) => e.node.id);
  /** starts a subscription and returns a function that delivers one event on it */
  const subscribe = (name: string, query: string, variables: Record<string, unknown>) => {
    const source = client.subscription(gql(query), variables);
    wonka.pipe(source, wonka.subscribe(() => undefined));
    return (data: Record<string, unknown>) => {
      const op = subscriptions.get(name);
      if (!op) throw new Error(`no subscription ${name}`);
      events.next(makeResult(op, { data }));
    };
  };
  return {
    client,
    History,
    vars,
    ids,
    history,
    subscribe,
    mutations,
    respondToMutations: (data: Record<string, unknown>) => (mutationResponse = data),
    /** from now on each mutation waits for the test: `next()` gives the answer of the oldest one waiting */
    holdMutations: () => {
      const waiting: ((result: (op: Operation) => OperationResult) => void)[] = [];
      answering = (op) => new Promise((resolve) => waiting.push((result) => resolve(result(op))));
      return {
        answer: (data: Record<string, unknown>) => waiting.shift()?.((op) => makeResult(op, { data })),
        fail: (message: string) => waiting.shift()?.((op) => urql.makeErrorResult(op, new Error(message))),
        get waiting() {
          return waiting.length;
        },
      };
    },
  };
}

describe('the web client cache', () => {
  it('merges history pages in order and drops a message two pages both hold', async () => {
    const t = setup({ first: page([5, 4, 3], true), m3: page([3, 2, 1], false) });
    await t.client.query(t.History, t.vars).toPromise();
    expect(t.ids()).toEqual(['m5', 'm4', 'm3']);
    await t.client.query(t.History, { ...t.vars, after: 'm3' }).toPromise();
    expect(t.ids()).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
    expect(t.history().pageInfo.hasNextPage).toBe(false);
  });

  it('adds a live message once at the head, from the send response and its subscription event alike', async () => {
    const t = setup({ first: page([2, 1], false) });
    await t.client.query(t.History, t.vars).toPromise();
    const push = t.subscribe('Live', `subscription Live($channelId: ID!) { messageAdded(channelId: $channelId) { ${FIELDS} } }`, {
      channelId: CHANNEL,
    });
    push({ messageAdded: msg(3) });
    push({ messageAdded: msg(3) }); // a replay of the same message
    expect(t.ids()).toEqual(['m3', 'm2', 'm1']);

    t.respondToMutations({ sendMessage: msg(4) });
    await t.client
      .mutation(
        urql.gql(`mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { ${FIELDS} } }`),
        { input: { channelId: CHANNEL, content: 'message 4' } },
      )
      .toPromise();
    push({ messageAdded: msg(4) }); // the sender's own message arrives on the subscription too
    expect(t.ids()).toEqual(['m4', 'm3', 'm2', 'm1']);
    expect(cache.newestMessageCursor(t.client, CHANNEL)).toBe('m4');
  });

  it('takes a deleted message out of every page', async () => {
    const t = setup({ first: page([4, 3], true), m3: page([2, 1], false) });
    await t.client.query(t.History, t.vars).toPromise();
    await t.client.query(t.History, { ...t.vars, after: 'm3' }).toPromise();
    const push = t.subscribe('Gone', 'subscription Gone($channelId: ID!) { messageDeleted(channelId: $channelId) { id channelId } }', {
      channelId: CHANNEL,
    });
    push({ messageDeleted: { __typename: 'DeletedMessage', id: 'm4', channelId: CHANNEL } });
    push({ messageDeleted: { __typename: 'DeletedMessage', id: 'm2', channelId: CHANNEL } });
    expect(t.ids()).toEqual(['m3', 'm1']);
  });

  it('resumes from nothing when no message is held yet, and skips messages still being sent', async () => {
    const t = setup({ first: page([], false) });
    expect(cache.newestMessageCursor(t.client, CHANNEL)).toBeNull();
    await t.client.query(t.History, t.vars).toPromise();
    expect(cache.newestMessageCursor(t.client, CHANNEL)).toBeNull();
    expect(cache.isPendingId(`${cache.PENDING_PREFIX}1`)).toBe(true);
  });

  it('keeps the typing list as the events say', async () => {
    const t = setup({ first: page([], false) });
    const Typing = urql.gql`query T($channelId: ID!) { channel(id: $channelId) { id typingUsers { id displayName } } }`;
    await t.client.query(Typing, { channelId: CHANNEL }).toPromise();
    const push = t.subscribe(
      'Ty',
      'subscription Ty($channelId: ID!) { typing(channelId: $channelId) { channelId isTyping user { id displayName } } }',
      { channelId: CHANNEL },
    );
    const user = { __typename: 'User', id: 'u1', displayName: 'Ada' };
    const typing = () =>
      (t.client.readQuery(Typing, { channelId: CHANNEL })?.data as { channel: { typingUsers: { displayName: string }[] } }).channel.typingUsers.map(
        (u) => u.displayName,
      );
    push({ typing: { __typename: 'TypingEvent', channelId: CHANNEL, isTyping: true, user } });
    push({ typing: { __typename: 'TypingEvent', channelId: CHANNEL, isTyping: true, user } });
    expect(typing()).toEqual(['Ada']);
    push({ typing: { __typename: 'TypingEvent', channelId: CHANNEL, isTyping: false, user } });
    expect(typing()).toEqual([]);
  });
});

describe('sending with a nonce', () => {
  const SEND = `mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { ${FIELDS} } }`;
  const LIVE = `subscription Live($channelId: ID!) { messageAdded(channelId: $channelId) { ${FIELDS} } }`;

  /** a channel with two messages, live, whose sends wait for the test to answer them */
  async function channel() {
    const t = setup({ first: page([2, 1], false) });
    await t.client.query(t.History, t.vars).toPromise();
    const push = t.subscribe('Live', LIVE, { channelId: CHANNEL });
    const server = t.holdMutations();
    const store = new sends.Sends(t.client, urql.gql(SEND));
    /**
     * What the list shows, as MessageList renders it: the cached messages, then the sends
     * whose message (by nonce) is not among them; pending ones as `pending:<nonce>`. The sends
     * shown are then settled, as MessageList does after rendering.
     */
    const shown = () => {
      const confirmed = sends.confirmedNonces(
        t.history().edges.map((e) => e.node),
        VIEWER,
      );
      const rows = [
        ...t.ids().reverse(),
        ...sends.unconfirmedSends(store.list(CHANNEL), confirmed).map((s) => `${s.status === 'failed' ? 'failed' : 'pending'}:${s.nonce}`),
      ];
      store.settle(CHANNEL, confirmed);
      return rows;
    };
    const send = (content: string) => store.send({ channelId: CHANNEL, content, replyToId: null, attachments: [] });
    const nonceOf = (op: Operation | undefined) => (op?.variables as { input: { nonce?: string } }).input.nonce;
    return { t, push, server, store, shown, send, nonceOf };
  }

  it('gives every send its own nonce of 1 to 64 characters', async () => {
    const { t, server, send, nonceOf } = await channel();
    void send('one');
    void send('two');
    await Promise.resolve();
    const [a, b] = t.mutations.map(nonceOf);
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
    expect(server.waiting).toBe(2);
  });

  it('replaces the pending message by the answer, then ignores its event', async () => {
    const { t, push, server, store, shown, send, nonceOf } = await channel();
    const sent = send('message 3');
    await Promise.resolve();
    const nonce = nonceOf(t.mutations[0])!;
    expect(shown()).toEqual(['m1', 'm2', `pending:${nonce}`]);

    server.answer({ sendMessage: msg(3, nonce, VIEWER) });
    expect(await sent).toBe(true);
    expect(shown()).toEqual(['m1', 'm2', 'm3']);
    expect(store.list(CHANNEL)).toEqual([]); // settled once the list showed it

    push({ messageAdded: msg(3, nonce, VIEWER) }); // the sender's own event comes after
    expect(shown()).toEqual(['m1', 'm2', 'm3']);
    expect(cache.newestMessageCursor(t.client, CHANNEL)).toBe('m3');
  });

  it('replaces the pending message by its event when that comes before the answer', async () => {
    const { t, push, server, store, shown, send, nonceOf } = await channel();
    const sent = send('message 3');
    await Promise.resolve();
    const nonce = nonceOf(t.mutations[0])!;
    expect(shown()).toEqual(['m1', 'm2', `pending:${nonce}`]);

    push({ messageAdded: msg(3, nonce, VIEWER) });
    expect(shown()).toEqual(['m1', 'm2', 'm3']); // at once, without waiting for the answer
    expect(server.waiting).toBe(1);

    server.answer({ sendMessage: msg(3, nonce, VIEWER) });
    expect(await sent).toBe(true);
    expect(shown()).toEqual(['m1', 'm2', 'm3']);
    expect(store.list(CHANNEL)).toEqual([]);
  });

  it("does not take someone else's message with the same nonce for the viewer's", async () => {
    const { t, push, server, shown, send, nonceOf } = await channel();
    const sent = send('message 4');
    await Promise.resolve();
    const nonce = nonceOf(t.mutations[0])!;
    push({ messageAdded: msg(3, nonce, 'someone') });
    expect(shown()).toEqual(['m1', 'm2', 'm3', `pending:${nonce}`]);
    server.answer({ sendMessage: msg(4, nonce, VIEWER) });
    await sent;
    expect(shown()).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('retries a failed send with the same nonce and shows the message once', async () => {
    const { t, push, server, store, shown, send, nonceOf } = await channel();
    const sent = send('message 3');
    await Promise.resolve();
    const nonce = nonceOf(t.mutations[0])!;
    server.fail('the answer was lost'); // the server may have stored it all the same
    expect(await sent).toBe(false);
    expect(shown()).toEqual(['m1', 'm2', `failed:${nonce}`]);
    expect(store.list(CHANNEL)[0]?.error).toBeTruthy();

    const retried = store.retry(CHANNEL, nonce);
    await Promise.resolve();
    expect(t.mutations).toHaveLength(2);
    expect(nonceOf(t.mutations[1])).toBe(nonce);
    expect(shown()).toEqual(['m1', 'm2', `pending:${nonce}`]);

    server.answer({ sendMessage: msg(3, nonce, VIEWER) }); // the first one, stored once
    expect(await retried).toBe(true);
    push({ messageAdded: msg(3, nonce, VIEWER) });
    expect(shown()).toEqual(['m1', 'm2', 'm3']);
    expect(store.list(CHANNEL)).toEqual([]);
  });

  it('drops a failed send whose message arrived after all (stored, answer lost)', async () => {
    const { t, push, server, store, shown, send, nonceOf } = await channel();
    const sent = send('message 3');
    await Promise.resolve();
    const nonce = nonceOf(t.mutations[0])!;
    push({ messageAdded: msg(3, nonce, VIEWER) });
    server.fail('the answer was lost');
    expect(await sent).toBe(false);
    expect(shown()).toEqual(['m1', 'm2', 'm3']);
    expect(store.list(CHANNEL)).toEqual([]);
  });
});
