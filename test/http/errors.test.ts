// What a client sees when something goes wrong: the contract's codes, never internals.
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createErrorMasker } from '../../src/http/errors.js';
import { badInput, notFound } from '../../src/services/errors.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, guildWithMembers, send } from '../support/client.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

async function post(body: unknown, token?: string) {
  const res = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: any[] } };
}

describe('mistakes in the request', () => {
  it('bad GraphQL syntax is a parse error for the client, not a server failure', async () => {
    const { status, body } = await post({ query: '{ viewer { id ' });
    expect(status).toBeLessThan(500);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Syntax Error/),
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
  });

  it('an unknown field is a validation error', async () => {
    const { status, body } = await post({ query: '{ viewer { id shoeSize } }' });
    expect(status).toBeLessThan(500);
    expect(body.errors?.[0]).toMatchObject({
      message: expect.stringContaining('shoeSize'),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });

  it.each([
    ['an object for an ID', 'query($id: ID!) { guild(id: $id) { id } }', { id: { no: 1 } }],
    ['a word for an Int', 'query($n: Int) { guilds(first: $n) { totalCount } }', { n: 'ten' }],
    ['an input missing required fields', 'mutation($i: RegisterInput!) { register(input: $i) { accessToken } }', { i: { username: 'ada' } }],
  ])('a variable holding %s is BAD_USER_INPUT, named in the message', async (_label, query, variables) => {
    const { status, body } = await post({ query, variables });
    expect(status).toBeLessThan(500);
    expect(body.data ?? undefined).toBeUndefined();
    expect(body.errors?.[0], JSON.stringify(body)).toMatchObject({
      message: expect.stringContaining(`$${Object.keys(variables)[0]}`),
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('a literal argument of the wrong type is a validation error', async () => {
    const { body } = await post({ query: '{ guilds(first: "ten") { totalCount } }' });
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('an internal failure', () => {
  let member: Client;
  let generalId: string;

  beforeAll(async () => {
    ({ owner: member, generalId } = await guildWithMembers(server.graphqlUrl, 0));
    await send(member, generalId, 'before the breakage');
  });

  it('is masked as INTERNAL_SERVER_ERROR with a generic message and no detail', async () => {
    // Break the database under the running server: a table it relies on disappears.
    await server.app.db.prisma.$executeRawUnsafe('ALTER TABLE "Message" RENAME TO "Message_broken"');
    try {
      const { status, body } = await post(
        { query: 'query($id: ID!) { channel(id: $id) { name messages { edges { node { content } } } } }', variables: { id: generalId } },
        member.token,
      );
      expect(status).toBeLessThan(500);
      expect(body.errors).toHaveLength(1);
      const [error] = body.errors!;
      expect(error.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
      expect(error.path).toEqual(['channel', 'messages']);
      expect(error.message).toBe('Unexpected error.');
      expect(error).not.toHaveProperty('stack');
    } finally {
      await server.app.db.prisma.$executeRawUnsafe('ALTER TABLE "Message_broken" RENAME TO "Message"');
    }
    // and the server carries on once the database is whole again
    const { body } = await post(
      { query: 'query($id: ID!) { channel(id: $id) { messages { totalCount } } }', variables: { id: generalId } },
      member.token,
    );
    expect(body).toEqual({ data: { channel: { messages: { totalCount: 1 } } } });
  });
});

describe('createErrorMasker', () => {
  const logger = () => ({ error: vi.fn() }) as unknown as Logger & { error: ReturnType<typeof vi.fn> };

  it('keeps a domain error: its message, code and field', () => {
    const log = logger();
    const wrapped = new GraphQLError('x', { path: ['guild'], originalError: badInput('Name must be 1 to 100 characters.', 'name') });
    const masked = createErrorMasker(log)(wrapped, 'Unexpected error.') as GraphQLError;
    expect(masked.message).toBe('Name must be 1 to 100 characters.');
    expect(masked.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(masked.path).toEqual(['guild']);
    expect(log.error).not.toHaveBeenCalled();
  });

  it('keeps NOT_FOUND without saying more than the contract does', () => {
    const masked = createErrorMasker(logger())(notFound('Guild'), 'Unexpected error.') as GraphQLError;
    expect(masked.extensions).toEqual({ code: 'NOT_FOUND' });
  });

  it('masks anything else and logs the detail', () => {
    const log = logger();
    const failure = new Error('duplicate key value violates unique constraint "User_email_key"');
    const wrapped = new GraphQLError(failure.message, { path: ['register'], originalError: failure });
    const masked = createErrorMasker(log)(wrapped, 'Unexpected error.') as GraphQLError;
    expect(masked.message).toBe('Unexpected error.');
    expect(masked.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ err: failure }), 'unexpected error');
  });
});
