// What an operator's probes and Prometheus see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, usingRedis } from '../support/app.js';
import { signUp } from '../support/client.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

describe('health', () => {
  it('is live, and ready with the database (and Redis when configured) answering', async () => {
    const live = await fetch(`${server.url}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(body).toEqual({ status: 'ok', checks: { database: 'ok', ...(usingRedis ? { redis: 'ok' } : {}) } });
  });
});

describe('metrics', () => {
  it('exposes Prometheus text with the GraphQL operations that ran', async () => {
    await signUp(server.graphqlUrl);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^# TYPE graphql_envelop_phase_execute histogram$/m);
    expect(text).toMatch(/operationType="mutation"/);
  });
});
