// The voice rules of the web client's cache (web/src/lib/cache.ts, applyVoiceEvent) on urql's
// real graphcache, fed by a scripted exchange: a guild's voice channels and who is in them, then
// voiceStates(guildId) events: a join shows once in its channel, a move takes the person from one
// list to the other, an update or speaking change edits the row in place (and puts a person whose
// join was missed where they are), a leave takes them out, and a moderator's move answers alike.
import type { Client as ClientType, Exchange, Operation, OperationResult } from '@urql/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild } from '../support/browser.js';

let cache: typeof import('../../../web/src/lib/cache');
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

const GUILD = 'g1';
const STATE_FIELDS = 'user { id displayName } channel { id } selfMute selfDeaf serverMute serverDeaf speaking';
const state = (userId: string, channelId: string, patch: Record<string, unknown> = {}) => ({
  __typename: 'VoiceState',
  user: { __typename: 'User', id: userId, displayName: userId.toUpperCase() },
  channel: { __typename: 'Channel', id: channelId },
  selfMute: false,
  selfDeaf: false,
  serverMute: false,
  serverDeaf: false,
  speaking: false,
  ...patch,
});
const channel = (id: string, voiceStates: unknown[]) => ({ __typename: 'Channel', id, type: 'VOICE', voiceStates });

function setup() {
  const { Client, makeResult, gql } = urql;
  const { filter, makeSubject, map, merge, pipe, share } = wonka;
  const events = makeSubject<OperationResult>();
  let subscription: Operation | undefined;
  let mutationData: Record<string, unknown> = {};
  const scripted: Exchange = () => (ops$) => {
    const shared = pipe(ops$, share);
    return merge([
      pipe(
        shared,
        filter((op) => op.kind === 'query'),
        map((op) =>
          makeResult(op, {
            data: { guild: { __typename: 'Guild', id: GUILD, channels: [channel('lounge', [state('ada', 'lounge')]), channel('stage', [])] } },
          }),
        ),
      ),
      pipe(
        shared,
        filter((op) => op.kind === 'mutation'),
        map((op) => makeResult(op, { data: mutationData })),
      ),
      pipe(
        shared,
        filter((op) => op.kind === 'subscription'),
        map((op) => {
          subscription = op;
          return null;
        }),
        filter((x): x is never => x !== null),
      ),
      events.source,
    ]);
  };
  const client: ClientType = new Client({ url: 'http://test/graphql', exchanges: [graphcache.cacheExchange(cache.cacheConfig), scripted], requestPolicy: 'cache-first' });
  const Guild = gql`query Guild($id: ID!) { guild(id: $id) { id channels { id type voiceStates { ${STATE_FIELDS} } } } }`;
  const Events = gql`subscription Events($guildId: ID!) { voiceStates(guildId: $guildId) { guildId kind previousChannelId state { ${STATE_FIELDS} } } }`;
  const Move = gql`mutation Move($guildId: ID!, $userId: ID!, $channelId: ID!) { moveVoiceMember(guildId: $guildId, userId: $userId, channelId: $channelId) { ${STATE_FIELDS} } }`;
  wonka.pipe(client.subscription(Events, { guildId: GUILD }), wonka.subscribe(() => undefined));
  type Read = { guild: { channels: { id: string; voiceStates: { user: { id: string }; speaking: boolean; serverMute: boolean }[] }[] } };
  const read = () => client.readQuery(Guild, { id: GUILD })?.data as Read;
  return {
    load: () => client.query(Guild, { id: GUILD }).toPromise(),
    /** who is in each channel, by user id */
    lists: () => Object.fromEntries(read().guild.channels.map((c) => [c.id, c.voiceStates.map((s) => s.user.id)])),
    stateOf: (userId: string) => read().guild.channels.flatMap((c) => c.voiceStates).find((s) => s.user.id === userId),
    event: (kind: string, s: ReturnType<typeof state>, previousChannelId: string | null = null) => {
      if (!subscription) throw new Error('no voiceStates subscription');
      events.next(makeResult(subscription, { data: { voiceStates: { __typename: 'VoiceStateEvent', guildId: GUILD, kind, previousChannelId, state: s } } }));
    },
    move: (data: Record<string, unknown>) => {
      mutationData = data;
      return client.mutation(Move, { guildId: GUILD, userId: 'bob', channelId: 'stage' }).toPromise();
    },
  };
}

describe('voice states in the web client cache', () => {
  it('joins, moves, updates and leaves keep every channel list right, each person once', async () => {
    const c = setup();
    await c.load();
    expect(c.lists()).toEqual({ lounge: ['ada'], stage: [] });

    c.event('JOINED', state('bob', 'lounge'));
    c.event('JOINED', state('bob', 'lounge')); // a repeat changes nothing
    expect(c.lists()).toEqual({ lounge: ['ada', 'bob'], stage: [] });

    c.event('SPEAKING', state('bob', 'lounge', { speaking: true }));
    c.event('UPDATED', state('ada', 'lounge', { serverMute: true }));
    expect(c.stateOf('bob')?.speaking).toBe(true);
    expect(c.stateOf('ada')?.serverMute).toBe(true);
    expect(c.lists()).toEqual({ lounge: ['ada', 'bob'], stage: [] });

    c.event('MOVED', state('bob', 'stage'), 'lounge');
    expect(c.lists()).toEqual({ lounge: ['ada'], stage: ['bob'] });

    // a missed JOINED: the next event about them puts them where they are
    c.event('SPEAKING', state('cy', 'stage', { speaking: true }));
    expect(c.lists()).toEqual({ lounge: ['ada'], stage: ['bob', 'cy'] });

    c.event('LEFT', state('ada', 'lounge'));
    c.event('LEFT', state('cy', 'stage'));
    expect(c.lists()).toEqual({ lounge: [], stage: ['bob'] });
  });

  it("a moderator's move answer moves the row at once", async () => {
    const c = setup();
    await c.load();
    c.event('JOINED', state('bob', 'lounge'));
    await c.move({ moveVoiceMember: state('bob', 'stage') });
    expect(c.lists()).toEqual({ lounge: ['ada'], stage: ['bob'] });
  });
});
