// /metrics as an attacker and as an operator see it: its size does not grow with what clients
// send, it is not public, and a scrape that fails is a clean 503.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';
import { type TestServer, startTestServer } from '../support/app.js';

const MAX_NAMES = 20;
const TOKEN = 'metrics-token-0123456789abcdef';

/** Runs `count` tasks, `width` at a time. */
async function pool(count: number, width: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

const seriesOf = (text: string, metric: string) => text.split('\n').filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric}_`));
const labelValues = (lines: string[], label: string) =>
  new Set(lines.map((l) => new RegExp(`${label}="([^"]*)"`).exec(l)?.[1]).filter((v): v is string => v !== undefined));

describe('with thousands of distinct query strings and operation names', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { METRICS_MAX_OPERATION_NAMES: String(MAX_NAMES), METRICS_TOKEN: TOKEN } });
  });
  afterAll(() => server?.stop());

  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    return res.text();
  };

  it('keeps the exposition small: route templates, capped operation names, no query strings', async () => {
    const before = (await scrape()).length;
    const N = 1000;
    const padding = 'x'.repeat(2000);
    await pool(N, 16, async (i) => {
      // a GET whose URL is unique (and long)
      const get = await fetch(`${server.graphqlUrl}?query=${encodeURIComponent(`query Get${i} { __typename }`)}&pad${i}=${padding}`);
      expect(get.status).toBe(200);
      await get.arrayBuffer();
      // a POST with a unique operation name (and a long, unique one that no set may keep)
      const name = i % 2 ? `Op${i}` : `Op${i}_${'y'.repeat(200)}`;
      const post = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `query ${name} { __typename }` }),
      });
      expect(post.status).toBe(200);
      await post.arrayBuffer();
      // and a document that does not even parse, under yet another name
      const bad = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `query Broken${i} { __typename`, operationName: `Broken${i}` }),
      });
      await bad.arrayBuffer();
    });

    const started = Date.now();
    const text = await scrape();
    expect(Date.now() - started).toBeLessThan(2000);
        // 3,000 requests later the exposition is what 20 names make it (~140 KB here), where
    // labels taken from requests made it grow ~5 KB per request (15 MB by now)
    expect(text.length, `${before} bytes before`).toBeLessThan(250_000);
    expect(text).not.toContain('pad');
    expect(text).not.toContain('?query');
    expect(text).not.toMatch(/y{50}/);

    const http = seriesOf(text, 'graphql_yoga_http_duration');
    expect(http.length).toBeGreaterThan(0);
    expect([...labelValues(http, 'url')].sort()).toEqual(['/graphql']);
    for (const metric of ['graphql_envelop_request', 'graphql_envelop_request_duration', 'graphql_envelop_phase_execute', 'graphql_yoga_http_duration']) {
      const names = labelValues(seriesOf(text, metric), 'operationName');
      // the capped set, plus "other" and "Anonymous"
      expect(names.size, `${metric}: ${[...names].join(', ')}`).toBeLessThanOrEqual(MAX_NAMES + 2);
    }
    expect(labelValues(seriesOf(text, 'graphql_envelop_request'), 'operationName')).toContain('other');
    // the route-template histogram of every HTTP request
    const routes = labelValues(seriesOf(text, 'http_request_duration_seconds'), 'route');
    expect([...routes]).toContain('/graphql');
    expect([...routes].every((r) => ['/graphql', '/metrics', '/health/live', '/health/ready', '/uploads', '/static/:file', '/assets/:file', '/*'].includes(r))).toBe(true);
    // broken documents are counted by code, not by their response paths
    const errors = seriesOf(text, 'graphql_envelop_error_result');
    expect(errors.some((l) => /phase="parse"/.test(l))).toBe(true);
    expect(errors.every((l) => !/path=/.test(l))).toBe(true);
  }, 120_000);

  it('refuses an anonymous scrape and a wrong token with 401', async () => {
    const anonymous = await fetch(`${server.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await anonymous.text()).not.toMatch(/graphql_|process_/);
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
  });
});

describe('where /metrics is served', () => {
  it('on a listen address of its own with METRICS_PORT, and not on the public port', async () => {
    const server = await startTestServer({ env: { METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' } });
    try {
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      expect(server.app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.app.metricsUrl).not.toBe(server.url);
      const res = await fetch(`${server.app.metricsUrl}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^# TYPE http_request_duration_seconds histogram$/m);
      expect((await fetch(`${server.app.metricsUrl}/graphql`)).status).toBe(404);
    } finally {
      await server.stop();
    }
  });

  it('nowhere public in production without a token or a port of its own', async () => {
    const server = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/graphql_|process_/);
    } finally {
      await server.stop();
    }
  });
});

describe('a scrape that fails', () => {
  let http: Server;
  let url: string;
  beforeAll(async () => {
    const registry = new Registry();
    new Gauge({
      name: 'broken_gauge',
      help: 'a collector that throws',
      registers: [registry],
      collect() {
        throw new RangeError('Invalid string length');
      },
    });
    const metrics = createMetrics({ config: loadConfig({ NODE_ENV: 'test' }), log: createLogger('silent'), registry });
    http = createServer((req, res) => {
      metrics.handle(req, res).then((handled) => handled || res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => http.close(resolve)));

  it('answers 503 with a plain sentence, no stack', async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('10');
    const body = await res.text();
    expect(body).toBe('Metrics are unavailable right now.\n');
  });
});
