// Every environment variable the service reads, validated in one place.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const urlList = (pattern: RegExp, message: string) =>
  z
    .string()
    .transform((v) => v.split(',').map((u) => u.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(pattern, message)))
    .default([]);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  PGLITE_DATA_DIR: z.string().min(1).default('./data/pglite'),
  MIGRATE_ON_START: bool.default(true),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  // every Redis key and PubSub channel starts with this: deployments sharing one Redis differ here
  REDIS_KEY_PREFIX: z.string().min(1).max(64).default('chat:'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: int(1).default(900),
  REFRESH_TOKEN_TTL_SECONDS: int(60).default(30 * 24 * 3600),
  SESSION_CACHE_MS: int(0, 300_000).default(30_000),
  REFRESH_GRACE_MS: int(0, 60_000).default(10_000),
  SHUTDOWN_TIMEOUT_MS: int(0, 120_000).default(10_000),
  ARGON2_MEMORY_KIB: int(1024).default(19_456),
  UPLOAD_DIR: z.string().min(1).default('./data/uploads'),
  MAX_UPLOAD_BYTES: int(1).default(10 * 1024 * 1024),
  MAX_UPLOAD_FILES: int(1).default(10),
  UNATTACHED_UPLOAD_TTL_SECONDS: int(1).default(24 * 3600),
  MAX_AVATAR_BYTES: int(1).default(2 * 1024 * 1024),
  // the public guild every new account joins; set to '' (empty) for none
  DEFAULT_GUILD_NAME: z.string().trim().max(100, 'must be at most 100 characters').default('Lobby'),
  TYPING_TTL_MS: int(100).default(10_000),
  PRESENCE_TTL_MS: int(200).default(30_000),
  MESSAGE_RATE_LIMIT: int(0).default(10),
  LOGIN_FAILURE_LIMIT: int(0).default(10),
  LOGIN_ADDRESS_LIMIT: int(0).default(50),
  REGISTER_ADDRESS_LIMIT: int(0).default(30),
  SEARCH_RATE_LIMIT: int(0).default(120),
  MESSAGE_SEARCH_RATE_LIMIT: int(0).default(60),
  // proxies in front whose X-Forwarded-For entries are believed: false/0 none, true 1, or a count
  TRUST_PROXY: z
    .union([bool, int(0, 10)])
    .transform((v) => (typeof v === 'number' ? v : v ? 1 : 0))
    .default(0),
  GRAPHQL_MAX_DEPTH: int(2).default(12),
  GRAPHQL_MAX_TOKENS: int(100).default(2000),
  WS_MAX_MESSAGE_BYTES: int(1024).default(256 * 1024),
  WS_MAX_BUFFERED_BYTES: int(64 * 1024).default(4 * 1024 * 1024),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: int(1).default(500),
  WS_MAX_SUBSCRIPTIONS_PER_USER: int(1).default(2000),
  WS_MAX_CONNECTIONS_PER_USER: int(1).default(32),
  WS_CONNECTIONS_PER_MINUTE_PER_ADDRESS: int(0).default(600),
  WS_HEARTBEAT_MS: int(50).default(30_000),
  GRAPHIQL: bool.optional(),
  // HTTP surface (issue #9): introspection, CORS, request timeouts, batching, metrics
  GRAPHQL_INTROSPECTION: bool.optional(),
  GRAPHQL_BATCH_LIMIT: int(0, 100).default(10),
  CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean))
    .pipe(z.array(z.union([z.literal('*'), z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin must be scheme://host[:port], or *')])))
    .optional(),
  HTTP_HEADERS_TIMEOUT_MS: int(100).default(10_000),
  HTTP_BODY_TIMEOUT_MS: int(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(1000).default(300_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100).default(5_000),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: int(0, 65535).optional(),
  METRICS_MAX_OPERATION_NAMES: int(0, 10_000).default(100),
  JWT_PREVIOUS_SECRETS: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(32, 'each previous secret must be at least 32 characters')))
    .default([]),
  // two-factor authentication (issue #11, accounts)
  TOTP_ISSUER: z.string().trim().min(1).max(64).default('Chat'),
  TOTP_ENCRYPTION_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  TWO_FACTOR_FAILURE_LIMIT: int(0).default(5),
  TWO_FACTOR_CHALLENGE_TTL_SECONDS: int(1, 3600).default(300),
  // voice (issue #12): ICE servers handed to clients, and an external media node
  VOICE_STUN_URLS: urlList(/^stuns?:/, 'each STUN URL must start with stun: or stuns:'),
  VOICE_TURN_URLS: urlList(/^turns?:/, 'each TURN URL must start with turn: or turns:'),
  VOICE_TURN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  VOICE_TURN_TTL_SECONDS: int(60, 7 * 24 * 3600).default(3600),
  VOICE_TOKEN_TTL_SECONDS: int(10, 3600).default(300),
  MEDIA_URL: z.string().regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL').optional(),
  MEDIA_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** how long opening a node's control socket, or a request on it, may take before the node counts as unreachable */
  MEDIA_TIMEOUT_MS: int(100, 120_000).default(5_000),
});

export type Config = Omit<z.infer<typeof EnvSchema>, 'JWT_SECRET' | 'GRAPHIQL' | 'GRAPHQL_INTROSPECTION'> & {
  JWT_SECRET: string;
  jwtSecretGenerated: boolean;
  GRAPHIQL: boolean;
  GRAPHQL_INTROSPECTION: boolean;
};

/** Secrets may come from files (Docker/Kubernetes secrets): `JWT_SECRET_FILE=/run/secrets/jwt`
 *  reads JWT_SECRET from that file (trailing newline dropped) unless JWT_SECRET itself is set. */
export const SECRET_FILE_VARIABLES = ['JWT_SECRET', 'JWT_PREVIOUS_SECRETS', 'METRICS_TOKEN', 'DATABASE_URL', 'REDIS_URL', 'TOTP_ENCRYPTION_KEY', 'VOICE_TURN_SECRET', 'MEDIA_SECRET'] as const;

function readSecretFiles(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (!file || env[name] !== undefined) continue;
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`  ${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return out;
}

export class ConfigError extends Error {}

/** Parses an environment (process.env by default); throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = readSecretFiles(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>,
  );
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  if (!cfg.JWT_SECRET && cfg.NODE_ENV === 'production') {
    throw new ConfigError('Invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production');
  }
  if (cfg.VOICE_TURN_URLS.length > 0 && !cfg.VOICE_TURN_SECRET) {
    throw new ConfigError('Invalid configuration:\n  VOICE_TURN_SECRET: required with VOICE_TURN_URLS');
  }
  if (cfg.MEDIA_URL && !cfg.MEDIA_SECRET) {
    throw new ConfigError('Invalid configuration:\n  MEDIA_SECRET: required with MEDIA_URL');
  }
  if (cfg.HTTP_HEADERS_TIMEOUT_MS > cfg.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('Invalid configuration:\n  HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  return {
    ...cfg,
    // '' is how one says "no lobby", where every other variable treats '' as unset
    DEFAULT_GUILD_NAME: env.DEFAULT_GUILD_NAME?.trim() === '' ? '' : cfg.DEFAULT_GUILD_NAME,
    JWT_SECRET: cfg.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    jwtSecretGenerated: !cfg.JWT_SECRET,
    GRAPHIQL: cfg.GRAPHIQL ?? cfg.NODE_ENV !== 'production',
    GRAPHQL_INTROSPECTION: cfg.GRAPHQL_INTROSPECTION ?? cfg.NODE_ENV !== 'production',
  };
}
