// The direct path for plain JSON POSTs (src/http/graphql.ts) answers exactly as yoga does:
// each request is sent twice, once as the direct path takes it and once to `/graphql?` (a
// URL the direct path leaves to yoga), and the answers must be the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, guildWithMembers, send, unknownId } from '../support/client.js';

let server: TestServer;
let member: Client;
let stranger: Client;
let generalId: string;

beforeAll(async () => {
  server = await startTestServer();
  const guild = await guildWithMembers(server.graphqlUrl, 2);
  member = guild.members[0]!;
  stranger = (await guildWithMembers(server.graphqlUrl, 0)).owner;
  generalId = guild.generalId;
  await send(guild.owner, generalId, 'hello there');
});
afterAll(() => server?.stop());

interface Answer {
  status: number;
  contentType: string | null;
  body: unknown;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: compared as text
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body: parsed };
}

/** The answer of the direct path and yoga's to the same request. */
async function both(body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const direct = await post(server.graphqlUrl, text, headers);
  const viaYoga = await post(`${server.graphqlUrl}?`, text, headers);
  return { direct, viaYoga };
}

const auth = (client: Client) => ({ authorization: `Bearer ${client.token}` });
const messages = `query($c: ID!) { channel(id: $c) { name messages(first: 5) { totalCount edges { node { content author { id } } } } } }`;

describe('a JSON POST answered without yoga’s HTTP layer', () => {
  it.each([
    ['a query that succeeds', () => ({ query: messages, variables: { c: generalId } }), () => auth(member)],
    ['a field refused with NOT_FOUND', () => ({ query: messages, variables: { c: generalId } }), () => auth(stranger)],
    ['an unknown id', () => ({ query: messages, variables: { c: unknownId('Channel') } }), () => auth(member)],
    ['no token where one is needed', () => ({ query: `{ viewer { id } }` }), () => ({})],
    ['a token that is not one', () => ({ query: `{ viewer { id } }` }), () => ({ authorization: 'Bearer nonsense' })],
    ['a mutation refused on input', () => ({ query: `mutation { sendMessage(input: { channelId: "x", content: "" }) { id } }` }), () => auth(member)],
    ['variables of the wrong type', () => ({ query: messages, variables: { c: 42 } }), () => auth(member)],
    ['a missing variable', () => ({ query: messages }), () => auth(member)],
    ['a syntax error', () => ({ query: `{ viewer { id ` }), () => auth(member)],
    ['an unknown field', () => ({ query: `{ viewer { nope } }` }), () => auth(member)],
    ['two operations and no name', () => ({ query: `query A { viewer { id } } query B { viewer { id } }` }), () => auth(member)],
    ['the named one of two operations', () => ({ query: `query A { viewer { id } } query B { __typename }`, operationName: 'B' }), () => auth(member)],
    ['a body that is not JSON', () => '{"query": ', () => auth(member)],
    ['a body without a query', () => ({ variables: {} }), () => auth(member)],
    ['a batch', () => [{ query: `{ __typename }` }, { query: `{ viewer { id } }` }], () => auth(member)],
    ['an unknown persisted query', () => ({ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } }), () => auth(member)],
  ])('%s', async (_, body, headers) => {
    const { direct, viaYoga } = await both(body(), headers());
    expect(direct).toEqual(viaYoga);
  });

  it('a sent message is stored once per request, with the same answer shape', async () => {
    const query = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { content author { id } } }`;
    const { direct, viaYoga } = await both({ query, variables: { i: { channelId: generalId, content: 'twice' } } }, auth(member));
    expect(direct).toEqual(viaYoga);
    expect(direct.body).toEqual({ data: { sendMessage: { content: 'twice', author: { id: member.userId } } } });
    const { channel } = await member.ok<{ channel: { messages: { totalCount: number } } }>(messages, { c: generalId });
    expect(channel.messages.totalCount).toBe(3);
  });

  it('answers application/json to the Accept headers of urql, Apollo, fetch and curl alike', async () => {
    for (const accept of [
      'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed',
      'application/graphql-response+json,application/json;q=0.9',
      '*/*',
    ]) {
      const { direct, viaYoga } = await both({ query: `{ viewer { id } }` }, { ...auth(member), accept });
      expect(direct, accept).toEqual(viaYoga);
      expect(direct.contentType).toBe('application/json; charset=utf-8');
    }
  });

  it('leaves a subscription over SSE to yoga, which streams it', async () => {
    const controller = new AbortController();
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream, application/json', ...auth(member) },
      body: JSON.stringify({ query: `subscription($c: ID!) { messageAdded(channelId: $c) { content } }`, variables: { c: generalId } }),
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    await send(member, generalId, 'streamed');
    while (!seen.includes('streamed')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value);
    }
    expect(seen).toContain('"content":"streamed"');
    controller.abort();
  });
});
