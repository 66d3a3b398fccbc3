// A GraphQL client as a frontend would use one: HTTP POST with a Bearer token.
import { expect } from 'vitest';

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export class Client {
  token?: string;
  refreshToken?: string;
  userId?: string;
  username?: string;

  constructor(readonly graphqlUrl: string) {}

  async request<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
    const res = await fetch(this.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResponse<T>;
  }

  /** The data of a query that must succeed. */
  async ok<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const res = await this.request<T>(query, variables);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data as T;
  }

  /** The first error of a query that must fail, asserting its extensions.code. */
  async fails(code: string, query: string, variables?: Record<string, unknown>) {
    const res = await this.request(query, variables);
    expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res)).toBe(code);
    return res.errors![0]!;
  }
}

let counter = 0;
export const uniqueName = (prefix = 'user') => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

const REGISTER = `mutation($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id username email } }
}`;

/** Registers a fresh user and returns a client signed in as them. */
export async function signUp(graphqlUrl: string, name = uniqueName()): Promise<Client> {
  const client = new Client(graphqlUrl);
  const data = await client.ok<{ register: any }>(REGISTER, {
    input: { username: name, email: `${name}@example.com`, password: 'correct horse battery' },
  });
  client.token = data.register.accessToken;
  client.refreshToken = data.register.refreshToken;
  client.userId = data.register.user.id;
  client.username = name;
  return client;
}

export async function createGuild(client: Client, name = 'Guild', isPublic = false) {
  const data = await client.ok<{ createGuild: any }>(
    `mutation($input: CreateGuildInput!) { createGuild(input: $input) { id name channels { id name } } }`,
    { input: { name, isPublic } },
  );
  return { guildId: data.createGuild.id as string, generalId: data.createGuild.channels[0].id as string };
}

export async function invite(owner: Client, guildId: string, joiner: Client) {
  const { createInvite } = await owner.ok<{ createInvite: { code: string } }>(
    `mutation($g: ID!) { createInvite(guildId: $g) { code } }`,
    { g: guildId },
  );
  await joiner.ok(`mutation($c: String!) { joinGuild(inviteCode: $c) { id } }`, { c: createInvite.code });
}

export async function send(client: Client, channelId: string, content: string) {
  const { sendMessage } = await client.ok<{ sendMessage: { id: string } }>(
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
    { input: { channelId, content } },
  );
  return sendMessage.id;
}

/** The local (database) id inside a global id, for asking the server's PubSub directly. */
export const localId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;

// ---- helpers of the resolver and flow suites ----

/** The password signUp registers every user with. */
export const PASSWORD = 'correct horse battery';

/** A client sending the given access token, or none (anonymous). */
export function clientWithToken(graphqlUrl: string, token?: string): Client {
  const client = new Client(graphqlUrl);
  client.token = token;
  return client;
}

/** Signs in with a username or email and returns a client holding that session. */
export async function signIn(graphqlUrl: string, login: string, password = PASSWORD): Promise<Client> {
  const client = new Client(graphqlUrl);
  const { login: payload } = await client.ok<{ login: any }>(
    `mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id username } } }`,
    { input: { login, password } },
  );
  client.token = payload.accessToken;
  client.refreshToken = payload.refreshToken;
  client.userId = payload.user.id;
  client.username = payload.user.username;
  return client;
}

/** A global id as the server writes one: base64("Type:localId"). */
export const globalId = (type: string, local: string) => Buffer.from(`${type}:${local}`).toString('base64');

/** A well-formed global id of `type` that names nothing. */
export const unknownId = (type: string) => globalId(type, '01ARZ3NDEKTSV4RRFFQ69G5FAV');

/** Asserts the query fails with BAD_USER_INPUT naming `field`; returns the error. */
export async function failsOnField(client: Client, field: string, query: string, variables?: Record<string, unknown>) {
  const error = await client.fails('BAD_USER_INPUT', query, variables);
  expect(error.extensions?.field, JSON.stringify(error)).toBe(field);
  return error;
}

export async function createChannel(client: Client, guildId: string, name: string, type: 'TEXT' | 'VOICE' = 'TEXT') {
  const { createChannel } = await client.ok<{ createChannel: { id: string } }>(
    `mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }`,
    { input: { guildId, name, type } },
  );
  return createChannel.id;
}

/** A fresh owner with a guild, and `memberCount` fresh users who joined it by invite. */
export async function guildWithMembers(graphqlUrl: string, memberCount: number, isPublic = false) {
  const owner = await signUp(graphqlUrl);
  const { guildId, generalId } = await createGuild(owner, 'Guild', isPublic);
  const members: Client[] = [];
  for (let i = 0; i < memberCount; i++) {
    const member = await signUp(graphqlUrl);
    await invite(owner, guildId, member);
    members.push(member);
  }
  return { owner, members, guildId, generalId };
}
