// Clients the ecosystem ships, run as they ship: Apollo Client's PersistedQueryLink (automatic
// persisted queries) and BatchHttpLink (request batching), against the real server.
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createGuild, signUp } from '../support/client.js';

const BATCH_LIMIT = 4;

let server: TestServer;
let user: Client;

beforeAll(async () => {
  server = await startTestServer({ env: { GRAPHQL_BATCH_LIMIT: String(BATCH_LIMIT) } });
  user = await signUp(server.graphqlUrl);
});
afterAll(() => server?.stop());

/** fetch that records what went over the wire */
function recordingFetch() {
  const sent: { body: any; status: number }[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    sent.push({ body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined, status: res.status });
    return res;
  };
  return { sent, fetchFn };
}

const sha256 = (query: string) => createHash('sha256').update(query).digest('hex');
const authHeaders = () => ({ authorization: `Bearer ${user.token}` });

describe('automatic persisted queries (PersistedQueryLink)', () => {
  it('registers a query once, then runs it by its hash alone', async () => {
    const { sent, fetchFn } = recordingFetch();
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([new PersistedQueryLink({ sha256 }), new HttpLink({ uri: server.graphqlUrl, fetch: fetchFn, headers: authHeaders() })]),
    });
    const VIEWER = gql`
      query Viewer {
        viewer {
          id
          username
        }
      }
    `;
    const first = await client.query({ query: VIEWER, fetchPolicy: 'network-only' });
    expect(first.data).toEqual({ viewer: { __typename: 'User', id: user.userId, username: user.username } });
    // the hash alone (not known yet: PERSISTED_QUERY_NOT_FOUND), then hash and query
    expect(sent.map((s) => [typeof s.body.query, s.body.extensions.persistedQuery.version])).toEqual([
      ['undefined', 1],
      ['string', 1],
    ]);

    // a second client (another tab): the hash alone is enough now
    const again = recordingFetch();
    const other = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([new PersistedQueryLink({ sha256 }), new HttpLink({ uri: server.graphqlUrl, fetch: again.fetchFn, headers: authHeaders() })]),
    });
    const second = await other.query({ query: VIEWER, fetchPolicy: 'network-only' });
    expect(second.data).toEqual(first.data);
    expect(again.sent).toHaveLength(1);
    expect(again.sent[0]!.body.query).toBeUndefined();
    expect(again.sent[0]!.status).toBe(200);
  });

  it('runs mutations with variables the same way', async () => {
    const { sent, fetchFn } = recordingFetch();
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: ApolloLink.from([new PersistedQueryLink({ sha256 }), new HttpLink({ uri: server.graphqlUrl, fetch: fetchFn, headers: authHeaders() })]),
    });
    const CREATE = gql`
      mutation Create($input: CreateGuildInput!) {
        createGuild(input: $input) {
          id
          name
        }
      }
    `;
    for (const name of ['apq one', 'apq two']) {
      const { data } = await client.mutate({ mutation: CREATE, variables: { input: { name } } });
      expect((data as any).createGuild.name).toBe(name);
    }
    // registered on the first call; the second went as its hash alone
    expect(sent.map((s) => typeof s.body.query)).toEqual(['undefined', 'string', 'undefined']);
  });

  it('a wrong hash for a query is refused, not stored', async () => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ other }') } } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_MISMATCH');
  });
});

describe('request batching (BatchHttpLink)', () => {
  it('sends several operations in one HTTP request and gets every answer', async () => {
    const { generalId } = await createGuild(user, 'batched');
    const { sent, fetchFn } = recordingFetch();
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new BatchHttpLink({ uri: server.graphqlUrl, fetch: fetchFn, headers: authHeaders(), batchMax: BATCH_LIMIT, batchInterval: 20 }),
    });
    const CHANNEL = gql`
      query Channel($id: ID!) {
        channel(id: $id) {
          id
          name
        }
      }
    `;
    const VIEWER = gql`
      query Me {
        viewer {
          id
        }
      }
    `;
    const [a, b, c] = await Promise.all([
      client.query({ query: CHANNEL, variables: { id: generalId } }),
      client.query({ query: VIEWER }),
      client.query({ query: gql`query Guilds { guilds(first: 5) { totalCount } }` }),
    ]);
    expect((a.data as any).channel.id).toBe(generalId);
    expect((b.data as any).viewer.id).toBe(user.userId);
    expect((c.data as any).guilds.totalCount).toBeGreaterThanOrEqual(1);
    expect(sent).toHaveLength(1);
    expect(Array.isArray(sent[0]!.body)).toBe(true);
    expect(sent[0]!.body).toHaveLength(3);
  });

  it('refuses a batch past GRAPHQL_BATCH_LIMIT with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: BATCH_LIMIT + 1 }, () => ({ query: '{ __typename }' }))),
    });
    expect(res.status).toBe(413);
    const body = (await res.json()) as any;
    expect(body.errors[0]).toEqual({ message: `Batching is limited to ${BATCH_LIMIT} operations per request.`, extensions: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('one failing operation of a batch does not fail the others', async () => {
    const res = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify([{ query: '{ viewer { id } }' }, { query: '{ nope }' }]),
    });
    const body = (await res.json()) as any[];
    expect(body[0]).toEqual({ data: { viewer: { id: user.userId } } });
    expect(body[1].errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
