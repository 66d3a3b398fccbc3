// HTTP for the load: node:http with keep-alive (lighter per request than fetch), and a GraphQL
// helper over it. The orchestrator and the workers both use it.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });

export interface HttpResult {
  status: number;
  body: string;
}

export function post(url: string, body: string, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface GraphQLError {
  message: string;
  extensions?: Record<string, unknown>;
}

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly errors: GraphQLError[] = [],
  ) {
    super(message);
  }
}

/** POSTs a GraphQL operation; returns data, throws GraphQLRequestError on any error. */
export async function gql<T = Record<string, any>>(
  graphqlUrl: string,
  token: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const res = await post(graphqlUrl, JSON.stringify({ query, variables }), {
    accept: 'application/graphql-response+json, application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  });
  let parsed: { data?: T; errors?: GraphQLError[] };
  try {
    parsed = JSON.parse(res.body) as typeof parsed;
  } catch {
    throw new GraphQLRequestError(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  }
  if (parsed.errors?.length || !parsed.data) {
    throw new GraphQLRequestError(`HTTP ${res.status}: ${JSON.stringify(parsed.errors ?? parsed).slice(0, 300)}`, parsed.errors);
  }
  return parsed.data;
}

export function closeHttp(): void {
  agent.destroy();
}
