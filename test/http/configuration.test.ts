// The HTTP surface's settings: defaults, validation, and secrets read from mounted files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'chat-secrets-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('defaults', () => {
  it('development: introspection on, any CORS origin; production: introspection off', () => {
    const dev = loadConfig({});
    expect(dev).toMatchObject({
      GRAPHQL_INTROSPECTION: true,
      GRAPHQL_BATCH_LIMIT: 10,
      METRICS_HOST: '127.0.0.1',
      METRICS_MAX_OPERATION_NAMES: 100,
      JWT_PREVIOUS_SECRETS: [],
    });
    expect([dev.CORS_ORIGINS, dev.METRICS_PORT, dev.METRICS_TOKEN]).toEqual([undefined, undefined, undefined]);
    const prod = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) });
    expect(prod.GRAPHQL_INTROSPECTION).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32), GRAPHQL_INTROSPECTION: 'true' }).GRAPHQL_INTROSPECTION).toBe(true);
  });
});

describe('validation', () => {
  it('CORS_ORIGINS is a comma-separated list of origins, or *', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173/ ,' }).CORS_ORIGINS).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
    expect(loadConfig({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toEqual(['*']);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS/);
    expect(() => loadConfig({ CORS_ORIGINS: 'a.example' })).toThrow(ConfigError);
  });

  it('refuses a header timeout longer than the request timeout, and short secrets', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => loadConfig({ JWT_PREVIOUS_SECRETS: `${'a'.repeat(32)},short` })).toThrow(/JWT_PREVIOUS_SECRETS/);
    expect(loadConfig({ JWT_PREVIOUS_SECRETS: `${'a'.repeat(32)}, ${'b'.repeat(40)}` }).JWT_PREVIOUS_SECRETS).toEqual(['a'.repeat(32), 'b'.repeat(40)]);
  });
});

describe('secrets from mounted files (<NAME>_FILE)', () => {
  it('reads JWT_SECRET, METRICS_TOKEN and DATABASE_URL from files, without their final newline', async () => {
    await writeFile(path.join(dir, 'jwt'), `${'j'.repeat(40)}\n`);
    await writeFile(path.join(dir, 'metrics'), 'm'.repeat(20));
    await writeFile(path.join(dir, 'db'), 'postgres://chat:pw@db:5432/chat\n');
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET_FILE: path.join(dir, 'jwt'),
      METRICS_TOKEN_FILE: path.join(dir, 'metrics'),
      DATABASE_URL_FILE: path.join(dir, 'db'),
    });
    expect(config.JWT_SECRET).toBe('j'.repeat(40));
    expect(config.jwtSecretGenerated).toBe(false);
    expect(config.METRICS_TOKEN).toBe('m'.repeat(20));
    expect(config.DATABASE_URL).toBe('postgres://chat:pw@db:5432/chat');
  });

  it('the variable itself wins over its file; an unreadable file stops start-up naming it', () => {
    expect(loadConfig({ JWT_SECRET: 'e'.repeat(32), JWT_SECRET_FILE: path.join(dir, 'missing') }).JWT_SECRET).toBe('e'.repeat(32));
    expect(() => loadConfig({ JWT_SECRET_FILE: path.join(dir, 'missing') })).toThrow(/JWT_SECRET_FILE: cannot read .*missing \(ENOENT\)/);
  });
});
