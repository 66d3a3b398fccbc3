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
