// The web client's cache rules (web/src/lib/cache.ts) on urql's real graphcache, fed by a
// scripted exchange instead of a server: history pages merge without duplicates, live messages
// land once at the head whether they come from the send's response or the subscription, a
// deletion leaves every page, typing and presence update the lists, and a resumed
// subscription starts from the newest message held.
import type { Client as ClientType, Exchange, Operation, OperationResult } from '@urql/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from '../support/browser.js';

type CacheModule = typeof import('../../../web/src/lib/cache');
let cache: CacheModule;
let urql: typeof import('@urql/core');
let wonka: typeof import('wonka');
let graphcache: typeof import('@urql/exchange-graphcache');

beforeAll(async () => {
  ensureWebBuild(); // web/src/gql is generated
  cache = await import('../../../web/src/lib/cache');
  urql = await import('@urql/core');
  wonka = await import('wonka');
  graphcache = await import('@urql/exchange-graphcache');
}, 180_000);

const CHANNEL = 'Channel:1';
const msg = (n: number) => ({ __typename: 'Message', id: `m${n}`, content: `message ${n}` });
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
        map((op) => makeResult(op, { data: mutationResponse })),
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
    (client.readQuery(History, vars)?.data as { channel: { messages: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean } } } })
      .channel.messages;
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
    respondToMutations: (data: Record<string, unknown>) => (mutationResponse = data),
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
    const push = t.subscribe('Live', 'subscription Live($channelId: ID!) { messageAdded(channelId: $channelId) { id content } }', {
      channelId: CHANNEL,
    });
    push({ messageAdded: msg(3) });
    push({ messageAdded: msg(3) }); // a replay of the same message
    expect(t.ids()).toEqual(['m3', 'm2', 'm1']);

    t.respondToMutations({ sendMessage: msg(4) });
    await t.client
      .mutation(
        urql.gql`mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id content } }`,
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
