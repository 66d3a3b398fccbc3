// searchMessages: full-text search over the messages the viewer may read.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/services/ids.js';
import { MERGED_CHANNELS } from '../../src/services/searchSql.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createChannel, createGuild, failsOnField, guildWithMembers, invite, localId, send, signUp, unknownId } from '../support/client.js';
import { type UploadServer, startUploadServer } from '../support/uploads.js';

const SEARCH = `query Search($query: String!, $guildId: ID, $channelId: ID, $authorId: ID, $mentionsId: ID,
                             $has: [MessageContentKind!], $sentBefore: DateTime, $sentAfter: DateTime,
                             $orderBy: MessageSearchOrder, $first: Int, $after: String) {
  searchMessages(query: $query, guildId: $guildId, channelId: $channelId, authorId: $authorId, mentionsId: $mentionsId,
                 has: $has, sentBefore: $sentBefore, sentAfter: $sentAfter, orderBy: $orderBy, first: $first, after: $after) {
    edges {
      cursor rank matchedTerms highlights { start end }
      node { id content createdAt author { id } channel { id } attachments { fileName } replyTo { id } }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;
const SEARCH_TOTAL = `query($query: String!, $orderBy: MessageSearchOrder) {
  searchMessages(query: $query, orderBy: $orderBy, first: 1) { totalCount edges { node { id } } }
}`;
const EDIT = `mutation($id: ID!, $content: String!) { editMessage(id: $id, content: $content) { id } }`;
const DELETE = `mutation($id: ID!) { deleteMessage(id: $id) }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id createdAt } }`;
const UPLOAD = `mutation($files: [File!]!) { uploadAttachments(files: $files) { id } }`;

interface Edge {
  cursor: string;
  rank: number;
  matchedTerms: string[];
  highlights: { start: number; end: number }[];
  node: { id: string; content: string; createdAt: string; author: { id: string }; channel: { id: string }; attachments: { fileName: string }[]; replyTo: { id: string } | null };
}
interface SearchPage {
  edges: Edge[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

let uploads: UploadServer;
let server: TestServer;

beforeAll(async () => {
  uploads = await startUploadServer();
  server = uploads.server;
});
afterAll(() => uploads?.stop());

/** A word no other test's messages contain. */
const word = () => `w${randomBytes(5).toString('hex')}`;

async function search(client: Client, query: string, vars: Record<string, unknown> = {}): Promise<SearchPage> {
  return (await client.ok<{ searchMessages: SearchPage }>(SEARCH, { query, ...vars })).searchMessages;
}
const ids = (page: SearchPage) => page.edges.map((e) => e.node.id);
const marked = (e: Edge) => e.highlights.map((h) => e.node.content.slice(h.start, h.end));

async function sent(client: Client, channelId: string, content: string, extra: Record<string, unknown> = {}) {
  return (await client.ok<{ sendMessage: { id: string; createdAt: string } }>(SEND, { input: { channelId, content, ...extra } })).sendMessage;
}

describe('searchMessages: matching', () => {
  it('finds a word in any case, marks where it is, and returns the whole message', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const hit = await send(owner, generalId, `First ${w.toUpperCase()} then ${w}, twice.`);
    await send(owner, generalId, 'nothing to see here');
    const page = await search(owner, w);
    expect(ids(page)).toEqual([hit]);
    const [edge] = page.edges;
    expect(edge!.node).toMatchObject({ author: { id: owner.userId }, channel: { id: generalId }, attachments: [], replyTo: null });
    expect(marked(edge!)).toEqual([w.toUpperCase(), w]);
    expect(edge!.matchedTerms).toEqual([w]);
    expect(edge!.rank).toBeGreaterThan(0);
  });

  it('keeps every word of every language: no stemming, no stop words', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const german = await send(owner, generalId, `Die Straße ist lang ${w}`);
    const japanese = await send(owner, generalId, `日本語 テキスト ${w}`);
    const english = await send(owner, generalId, `The cats are running ${w}`);
    expect(ids(await search(owner, `straße ${w}`))).toEqual([german]);
    expect(ids(await search(owner, `日本語 ${w}`))).toEqual([japanese]);
    // "the" is searchable; "run" does not find "running" ('simple' does not stem)
    expect(ids(await search(owner, `the ${w}`))).toEqual([english]);
    expect(ids(await search(owner, `run ${w}`))).toEqual([]);
  });

  it('reads web-search syntax: every word, "a phrase", -excluded, or', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const quickFox = await send(owner, generalId, `${w} the quick brown fox`);
    const foxQuick = await send(owner, generalId, `${w} a fox that is quick`);
    const dog = await send(owner, generalId, `${w} the lazy dog`);
    const NEWEST = { orderBy: 'NEWEST' };
    expect(ids(await search(owner, `${w} quick fox`, NEWEST))).toEqual([foxQuick, quickFox]);
    expect(ids(await search(owner, `${w} "quick brown fox"`, NEWEST))).toEqual([quickFox]);
    expect(ids(await search(owner, `${w} -fox`, NEWEST))).toEqual([dog]);
    expect(ids(await search(owner, `${w} brown or lazy`, NEWEST))).toEqual([dog, quickFox]);
    const [either] = (await search(owner, `${w} brown or lazy`, NEWEST)).edges;
    expect(either!.matchedTerms).toEqual([w, 'lazy']);
  });

  it.each([
    ['quotes and operators', `"unbalanced ' & | ! ( ) : * <-> \\`],
    ['only punctuation', '!!! ??? ...'],
    ['tsquery syntax', "'a':* & !(b | c) <2> d"],
    ['emoji and symbols', '🎉🎉 ¯\\_(ツ)_/¯ <script>alert(1)</script>'],
    ['SQL', "'; DROP TABLE \"Message\"; --"],
  ])('answers %s without an error', async (_label, query) => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    await send(owner, generalId, `${query} and more`);
    const page = await search(owner, query);
    expect(Array.isArray(page.edges)).toBe(true);
  });

  it('finds words inside punctuation-heavy text, marks them in place', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const content = `<b>${w}</b> & "${w}"! \uE000${w}\uE001 🎉 ${w}`;
    await send(owner, generalId, content);
    const [edge] = (await search(owner, `"${w}"`)).edges;
    expect(edge!.node.content).toBe(content);
    expect(marked(edge!)).toEqual([w, w, w, w]);
  });

  it.each([
    ['empty', ''],
    ['blank', '   \n\t '],
    ['201 characters long', 'a'.repeat(201)],
  ])('refuses a query that is %s with BAD_USER_INPUT naming query', async (_label, query) => {
    const owner = await signUp(server.graphqlUrl);
    await failsOnField(owner, 'query', SEARCH, { query });
  });

  it('refuses a page size over 100 and a cursor that is not its own', async () => {
    const owner = await signUp(server.graphqlUrl);
    await failsOnField(owner, 'first', SEARCH, { query: 'x', first: 101 });
    await failsOnField(owner, 'after', SEARCH, { query: 'x', after: 'bm9wZQ' });
    await failsOnField(owner, 'after', SEARCH, { query: 'x', after: '%%%' });
  });
});

describe('searchMessages: ranking and order', () => {
  it('RELEVANCE (the default) puts the better match first; NEWEST orders by time', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const once = await send(owner, generalId, `${w} appears once in this rather long message about other things entirely`);
    const twice = await send(owner, generalId, `${w} ${w}`);
    const later = await send(owner, generalId, `and ${w} once more, in a long message with many other words in it`);
    const relevant = await search(owner, w);
    expect(ids(relevant)[0]).toBe(twice);
    expect(relevant.edges[0]!.rank).toBeGreaterThan(relevant.edges[1]!.rank);
    expect(ids(relevant).sort()).toEqual([once, twice, later].sort());
    expect(ids(await search(owner, w, { orderBy: 'NEWEST' }))).toEqual([later, twice, once]);
  });
});

describe('searchMessages: filters', () => {
  it('narrows by guild, channel, author and mentioned user', async () => {
    const { owner, members, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 1);
    const member = members[0]!;
    const randomId = await createChannel(owner, guildId, 'random');
    const other = await createGuild(owner, 'Other');
    const w = word();
    const byOwner = await send(owner, generalId, `${w} from the owner`);
    const byMember = await send(member, generalId, `${w} from the member, for <@${owner.userId}>`);
    const inRandom = await send(owner, randomId, `${w} in random`);
    const elsewhere = await send(owner, other.generalId, `${w} in another guild`);
    const NEWEST = { orderBy: 'NEWEST' };
    expect(ids(await search(owner, w, NEWEST))).toEqual([elsewhere, inRandom, byMember, byOwner]);
    expect(ids(await search(owner, w, { ...NEWEST, guildId }))).toEqual([inRandom, byMember, byOwner]);
    expect(ids(await search(owner, w, { ...NEWEST, channelId: generalId }))).toEqual([byMember, byOwner]);
    expect(ids(await search(owner, w, { ...NEWEST, authorId: member.userId }))).toEqual([byMember]);
    expect(ids(await search(owner, w, { ...NEWEST, mentionsId: owner.userId }))).toEqual([byMember]);
    expect(ids(await search(owner, w, { ...NEWEST, mentionsId: member.userId }))).toEqual([]);
    // all filters at once must all hold
    expect(ids(await search(owner, w, { guildId: other.guildId, channelId: generalId }))).toEqual([]);
    expect(ids(await search(owner, w, { authorId: unknownId('User') }))).toEqual([]);
  });

  it('has: LINK finds URLs with a scheme, ATTACHMENT messages with files, both together both', async () => {
    const owner = await signUp(server.graphqlUrl);
    const { generalId } = await createGuild(owner, 'Files');
    const w = word();
    const upload = async (name: string) => {
      const form = new FormData();
      form.append('operations', JSON.stringify({ query: UPLOAD, variables: { files: [null] } }));
      form.append('map', JSON.stringify({ 0: ['variables.files.0'] }));
      form.append('0', new File([name], name, { type: 'text/plain' }));
      const res = await fetch(server.graphqlUrl, { method: 'POST', headers: { authorization: `Bearer ${owner.token}` }, body: form });
      return ((await res.json()) as { data: { uploadAttachments: { id: string }[] } }).data.uploadAttachments[0]!.id;
    };
    const plain = await send(owner, generalId, `${w} plain, example.com is not a link`);
    const link = await send(owner, generalId, `${w} see https://example.com/page`);
    const file = (await sent(owner, generalId, `${w} a file`, { attachmentIds: [await upload('notes.txt')] })).id;
    const both = (await sent(owner, generalId, `${w} http://x.org and a file`, { attachmentIds: [await upload('both.txt')] })).id;
    const NEWEST = { orderBy: 'NEWEST' };
    expect(ids(await search(owner, w, NEWEST))).toEqual([both, file, link, plain]);
    expect(ids(await search(owner, w, { ...NEWEST, has: ['LINK'] }))).toEqual([both, link]);
    expect(ids(await search(owner, w, { ...NEWEST, has: ['ATTACHMENT'] }))).toEqual([both, file]);
    expect(ids(await search(owner, w, { ...NEWEST, has: ['ATTACHMENT', 'LINK'] }))).toEqual([both]);
    const [withFile] = (await search(owner, w, { has: ['ATTACHMENT'], first: 1, orderBy: 'NEWEST' })).edges;
    expect(withFile!.node.attachments).toEqual([{ fileName: 'both.txt' }]);
  });

  it('sentBefore and sentAfter bound the send time, both exclusive', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const first = await sent(owner, generalId, `${w} one`);
    const second = await sent(owner, generalId, `${w} two`);
    const third = await sent(owner, generalId, `${w} three`);
    const NEWEST = { orderBy: 'NEWEST' };
    expect(ids(await search(owner, w, { ...NEWEST, sentBefore: third.createdAt }))).toEqual([second.id, first.id]);
    expect(ids(await search(owner, w, { ...NEWEST, sentAfter: first.createdAt }))).toEqual([third.id, second.id]);
    expect(ids(await search(owner, w, { ...NEWEST, sentAfter: first.createdAt, sentBefore: third.createdAt }))).toEqual([second.id]);
    expect(ids(await search(owner, w, { sentAfter: third.createdAt }))).toEqual([]);
  });
});

describe('searchMessages: pages', () => {
  it.each(['RELEVANCE', 'NEWEST'])('%s pages through every match once, in order, with page info', async (orderBy) => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const sentIds: string[] = [];
    // ranks differ (1 to 3 occurrences) and repeat, so that pages cut through equal ranks
    for (let i = 0; i < 7; i++) sentIds.push(await send(owner, generalId, `${Array(1 + (i % 3)).fill(w).join(' ')} number ${i}`));
    const all = await search(owner, w, { orderBy, first: 100 });
    expect(all.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(5);
      const page: SearchPage = await search(owner, w, { orderBy, first: 3, after });
      seen.push(...ids(page));
      expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1]?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids(all));
    expect([...seen].sort()).toEqual([...sentIds].sort());
    if (orderBy === 'NEWEST') expect(seen).toEqual([...sentIds].reverse());
    else {
      const ranks = all.edges.map((e) => e.rank);
      expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    }
  });

  it('a RELEVANCE page after new messages arrived continues the first page’s results', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    for (let i = 0; i < 4; i++) await send(owner, generalId, `${w} message ${i}`);
    const first = await search(owner, w, { first: 2 });
    // a newer, better match: it would rank first, but the pages already shown stay put
    await send(owner, generalId, `${w} ${w} ${w}`);
    const second = await search(owner, w, { first: 10, after: first.pageInfo.endCursor });
    const before = await search(owner, w, { first: 10 });
    expect([...ids(first), ...ids(second)]).toEqual(ids(before).slice(1));
  });

  it('a cursor of one order is refused by the other', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    await send(owner, generalId, `${w} a`);
    await send(owner, generalId, `${w} b`);
    const page = await search(owner, w, { first: 1 });
    await failsOnField(owner, 'after', SEARCH, { query: w, orderBy: 'NEWEST', after: page.pageInfo.endCursor });
  });

  it('RELEVANCE ranks the newest 100 matches; NEWEST and totalCount reach every one', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const sentIds: string[] = [];
    for (let batch = 0; batch < 11; batch++)
      sentIds.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => send(owner, generalId, `${w} ${i % 2 ? w : ''} number ${batch}.${i}`)))));
    // ids (the ULIDs inside the global ids) sort in send order
    sentIds.sort((a, b) => (localId(a) < localId(b) ? -1 : 1));
    const walk = async (orderBy: string) => {
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: SearchPage = await search(owner, w, { orderBy, first: 40, after });
        seen.push(...ids(page));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      return seen;
    };
    expect([...(await walk('RELEVANCE'))].sort()).toEqual(sentIds.slice(10).sort());
    expect(await walk('NEWEST')).toEqual([...sentIds].reverse());
    const { searchMessages } = await owner.ok<{ searchMessages: { totalCount: number } }>(SEARCH_TOTAL, { query: w });
    expect(searchMessages.totalCount).toBe(110);
  }, 60_000);

  it('totalCount counts the matches', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    for (let i = 0; i < 3; i++) await send(owner, generalId, `${w} ${i}`);
    for (const orderBy of ['RELEVANCE', 'NEWEST']) {
      const { searchMessages } = await owner.ok<{ searchMessages: { totalCount: number; edges: unknown[] } }>(SEARCH_TOTAL, { query: w, orderBy });
      expect(searchMessages).toMatchObject({ totalCount: 3, edges: [expect.anything()] });
    }
  });
});

describe('searchMessages: what is written is searchable at once', () => {
  it('an edit re-indexes the message: its new words match, its old ones no longer', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const [before, after] = [word(), word()];
    const id = await send(owner, generalId, `draft ${before}`);
    expect(ids(await search(owner, before))).toEqual([id]);
    await owner.ok(EDIT, { id, content: `final ${after}` });
    expect(ids(await search(owner, before))).toEqual([]);
    const [edge] = (await search(owner, after)).edges;
    expect(edge!.node).toMatchObject({ id, content: `final ${after}` });
    expect(marked(edge!)).toEqual([after]);
  });

  it('a deleted message is never found again', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const gone = await send(owner, generalId, `${w} to delete`);
    const kept = await send(owner, generalId, `${w} to keep`);
    await owner.ok(DELETE, { id: gone });
    expect(ids(await search(owner, w))).toEqual([kept]);
    const { searchMessages } = await owner.ok<{ searchMessages: { totalCount: number } }>(SEARCH_TOTAL, { query: w });
    expect(searchMessages.totalCount).toBe(1);
  });

  it('a reply is found with its reply target', async () => {
    const { owner, generalId } = await guildWithMembers(server.graphqlUrl, 0);
    const w = word();
    const target = await send(owner, generalId, 'the question');
    const reply = (await sent(owner, generalId, `${w} the answer`, { replyToId: target })).id;
    const [edge] = (await search(owner, w)).edges;
    expect(edge!.node).toMatchObject({ id: reply, replyTo: { id: target } });
  });
});

describe('searchMessages: the newest matches, however busy the channels', () => {
  /** Messages straight into the table (thousands, in id order, as they would have arrived). */
  async function stored(channelId: string, authorId: string, contents: string[]): Promise<string[]> {
    const rows = contents.map((content) => ({ id: newId(), channelId: localId(channelId), authorId: localId(authorId), content }));
    await server.app.db.prisma.message.createMany({ data: rows });
    return rows.map((r) => r.id);
  }

  it('finds a match a busy channel buried under newer messages, before older matches of a quiet channel', { timeout: 60_000 }, async () => {
    const owner = await signUp(server.graphqlUrl);
    const { guildId, generalId: busy } = await createGuild(owner, 'Busy and quiet');
    const quiet = await createChannel(owner, guildId, 'quiet');
    const needle = word();
    // the quiet channel's matches are the oldest; the busy channel's one match has 3,000 newer messages above it
    const older = await stored(quiet, owner.userId!, Array.from({ length: 150 }, (_, i) => `${needle} old ${i}`));
    const [buried] = await stored(busy, owner.userId!, [`${needle} buried`]);
    await stored(busy, owner.userId!, Array.from({ length: 3000 }, (_, i) => `filler ${i}`));
    const page = await search(owner, needle, { orderBy: 'NEWEST', first: 25 });
    expect(page.edges[0]!.node.content).toBe(`${needle} buried`);
    expect(localId(page.edges[0]!.node.id)).toBe(buried);
    expect(page.edges.slice(1).map((e) => localId(e.node.id))).toEqual(older.slice(-24).reverse());
    const ranked = await search(owner, needle, { first: 25 });
    expect(ids(ranked).map(localId)).toContain(buried);
  });

  it('with more channels than are walked one by one, finds the newest matches across all of them', { timeout: 60_000 }, async () => {
    const owner = await signUp(server.graphqlUrl);
    const { guildId, generalId } = await createGuild(owner, 'Many channels');
    const all = [generalId];
    for (let i = 0; i < MERGED_CHANNELS; i++) all.push(await createChannel(owner, guildId, `room-${i}`));
    const needle = word();
    const sentIds: string[] = [];
    for (const [i, channelId] of all.entries()) sentIds.push((await sent(owner, channelId, `${needle} in room ${i}`)).id);
    const page = await search(owner, needle, { orderBy: 'NEWEST', first: 25 });
    expect(ids(page)).toEqual([...sentIds].reverse().slice(0, 25));
    const ranked = await search(owner, needle, { first: 100 });
    expect(ids(ranked).sort()).toEqual([...sentIds].sort());
  });
});

describe('searchMessages: who sees what', () => {
  // stranger: no guild in common; member: of the guild; outsider: member of another guild only
  async function world() {
    const { owner, members, guildId, generalId } = await guildWithMembers(server.graphqlUrl, 1);
    const stranger = await signUp(server.graphqlUrl);
    const outsider = await signUp(server.graphqlUrl);
    const elsewhere = await createGuild(outsider, 'Elsewhere');
    const w = word();
    const inGuild = await send(owner, generalId, `${w} inside the guild`);
    const inElsewhere = await send(outsider, elsewhere.generalId, `${w} in the other guild`);
    return { owner, member: members[0]!, stranger, outsider, guildId, generalId, elsewhere, w, inGuild, inElsewhere };
  }

  it.each([
    ['stranger', [] as string[]],
    ['member', ['inGuild']],
    ['outsider', ['inElsewhere']],
    ['owner', ['inGuild']],
  ] as const)('as the %s, finds only messages of guilds they are in', async (who, expected) => {
    const w = await world();
    const found = ids(await search(w[who], w.w));
    expect(found).toEqual(expected.map((k) => w[k as 'inGuild' | 'inElsewhere']));
  });

  it.each([
    ['stranger', 'NOT_FOUND'],
    ['member', 'found'],
    ['outsider', 'NOT_FOUND'],
    ['owner', 'found'],
  ] as const)('as the %s, naming the guild or its channel: %s', async (who, code) => {
    const w = await world();
    for (const filter of [{ guildId: w.guildId }, { channelId: w.generalId }]) {
      if (code === 'NOT_FOUND') {
        const error = await w[who].fails(code, SEARCH, { query: w.w, ...filter });
        expect(error.message).not.toContain(w.w);
      } else expect(ids(await search(w[who], w.w, filter))).toEqual([w.inGuild]);
    }
  });

  it('a member who leaves finds nothing of the guild any more; one who joins finds its past', async () => {
    const w = await world();
    await invite(w.owner, w.guildId, w.stranger);
    expect(ids(await search(w.stranger, w.w))).toEqual([w.inGuild]);
    await w.member.ok(`mutation($id: ID!) { leaveGuild(guildId: $id) }`, { id: w.guildId });
    expect(ids(await search(w.member, w.w))).toEqual([]);
  });

  it('an unknown guild or channel is NOT_FOUND; anonymous is UNAUTHENTICATED', async () => {
    const owner = await signUp(server.graphqlUrl);
    await owner.fails('NOT_FOUND', SEARCH, { query: 'x', guildId: unknownId('Guild') });
    await owner.fails('NOT_FOUND', SEARCH, { query: 'x', channelId: unknownId('Channel') });
    const anonymous = await signUp(server.graphqlUrl);
    anonymous.token = undefined;
    await anonymous.fails('UNAUTHENTICATED', SEARCH, { query: 'x' });
  });
});

describe('searchMessages: rate limit', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ env: { MESSAGE_SEARCH_RATE_LIMIT: '2' } });
  });
  afterAll(() => limited?.stop());

  it('refuses a user past MESSAGE_SEARCH_RATE_LIMIT per minute with RATE_LIMITED, others not', async () => {
    const [eager, calm] = [await signUp(limited.graphqlUrl), await signUp(limited.graphqlUrl)];
    await search(eager, 'one');
    await search(eager, 'two');
    const error = await eager.fails('RATE_LIMITED', SEARCH, { query: 'three' });
    expect(error.extensions?.retryAfterMs).toBeGreaterThan(0);
    await search(calm, 'one');
  });
});

describe('searchMessages and channels some cannot read', () => {
  const SET_OVERWRITE = `mutation($c: ID!, $type: OverwriteTargetType!, $target: ID!, $allow: [Permission!]!, $deny: [Permission!]!) {
    setChannelPermissionOverwrite(channelId: $c, targetType: $type, targetId: $target, allow: $allow, deny: $deny) { targetId }
  }`;
  const ROLES = `query($g: ID!) { guild(id: $g) { roles { id name } } }`;
  const OPEN = `mutation($u: ID!) { openDirectChannel(userId: $u) { id } }`;

  it('finds a private channel’s messages for those who may view it, and for nobody else; a DM for its two people', async () => {
    const { owner, members, guildId } = await guildWithMembers(server.graphqlUrl, 2);
    const [insider, outsider] = members as [Client, Client];
    const secretId = await createChannel(owner, guildId, 'secret');
    const { guild } = await owner.ok<{ guild: { roles: { id: string; name: string }[] } }>(ROLES, { g: guildId });
    const everyone = guild.roles.find((r) => r.name === '@everyone')!.id;
    await owner.ok(SET_OVERWRITE, { c: secretId, type: 'ROLE', target: everyone, allow: [], deny: ['VIEW_CHANNEL'] });
    await owner.ok(SET_OVERWRITE, { c: secretId, type: 'MEMBER', target: insider.userId, allow: ['VIEW_CHANNEL'], deny: [] });
    const secretWord = word();
    const hidden = await sent(owner, secretId, `the plan is ${secretWord}`);
    expect(ids(await search(owner, secretWord))).toEqual([hidden.id]);
    expect(ids(await search(insider, secretWord))).toEqual([hidden.id]);
    expect(ids(await search(outsider, secretWord))).toEqual([]);
    // naming the hidden channel is as good as naming none that exists
    await outsider.fails('NOT_FOUND', SEARCH, { query: secretWord, channelId: secretId });

    const dmWord = word();
    const { openDirectChannel } = await insider.ok<{ openDirectChannel: { id: string } }>(OPEN, { u: outsider.userId });
    const dm = await sent(insider, openDirectChannel.id, `just between us: ${dmWord}`);
    expect(ids(await search(outsider, dmWord))).toEqual([dm.id]);
    expect(ids(await search(insider, dmWord))).toEqual([dm.id]);
    expect(ids(await search(owner, dmWord))).toEqual([]);
  });
});
