// loadConfig: every environment variable checked in one place, with errors naming the culprit.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const SECRET = 's'.repeat(32);

/** The ConfigError loadConfig throws for env. */
function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('defaults', () => {
  it('an empty environment runs in development on port 4000 with PGlite', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      HOST: '0.0.0.0',
      PORT: 4000,
      LOG_LEVEL: 'info',
      PGLITE_DATA_DIR: './data/pglite',
      MIGRATE_ON_START: true,
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_SECONDS: 30 * 24 * 3600,
      TYPING_TTL_MS: 10_000,
      PRESENCE_TTL_MS: 30_000,
      GRAPHIQL: true,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.REDIS_KEY_PREFIX).toBe('chat:');
  });

  it('without JWT_SECRET outside production, generates a strong random one and says so', () => {
    const a = loadConfig({});
    const b = loadConfig({});
    expect(a.jwtSecretGenerated).toBe(true);
    expect(a.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(a.JWT_SECRET).not.toBe(b.JWT_SECRET);
    expect(loadConfig({ JWT_SECRET: SECRET })).toMatchObject({ JWT_SECRET: SECRET, jwtSecretGenerated: false });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', JWT_SECRET: '' })).toMatchObject({ PORT: 4000, jwtSecretGenerated: true });
  });
});

describe('values', () => {
  it('reads numbers, booleans and URLs from their text', () => {
    const config = loadConfig({
      PORT: '8080',
      ACCESS_TOKEN_TTL_SECONDS: '60',
      MIGRATE_ON_START: 'no',
      GRAPHIQL: '0',
      DATABASE_URL: 'postgresql://u@db:5432/chat',
      REDIS_URL: 'rediss://cache:6380',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      ACCESS_TOKEN_TTL_SECONDS: 60,
      MIGRATE_ON_START: false,
      GRAPHIQL: false,
      DATABASE_URL: 'postgresql://u@db:5432/chat',
      REDIS_URL: 'rediss://cache:6380',
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://db/chat'],
    ['REDIS_URL', 'http://cache'],
    ['JWT_SECRET', 'too-short'],
    ['ACCESS_TOKEN_TTL_SECONDS', '0'],
    ['REFRESH_TOKEN_TTL_SECONDS', '59'],
    ['MIGRATE_ON_START', 'maybe'],
    ['MAX_UPLOAD_BYTES', '-1'],
  ])('refuses %s=%j, naming the variable', (name, value) => {
    expect(refusal({ [name]: value }).message).toContain(name);
  });

  it('names every bad variable at once', () => {
    const { message } = refusal({ PORT: 'x', LOG_LEVEL: 'loud', DATABASE_URL: 'nope' });
    for (const name of ['PORT', 'LOG_LEVEL', 'DATABASE_URL']) expect(message).toContain(name);
  });
});

describe('production', () => {
  it('requires JWT_SECRET', () => {
    expect(refusal({ NODE_ENV: 'production' }).message).toContain('JWT_SECRET');
  });

  it('runs with one, GraphiQL off unless asked for', () => {
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET })).toMatchObject({
      NODE_ENV: 'production',
      JWT_SECRET: SECRET,
      jwtSecretGenerated: false,
      GRAPHIQL: false,
    });
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, GRAPHIQL: 'true' }).GRAPHIQL).toBe(true);
  });
});
