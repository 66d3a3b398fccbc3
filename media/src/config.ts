// Every environment variable the media node reads, validated in one place (documented in docs/VOICE.md).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    MEDIA_HOST: z.string().min(1).default('127.0.0.1'),
    MEDIA_PORT: int(0, 65535).default(4010),
    MEDIA_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    MEDIA_ANNOUNCED_IP: z.union([z.ipv4(), z.ipv6()]).optional(),
    MEDIA_RTC_MIN_PORT: int(1024, 65535).optional(),
    MEDIA_RTC_MAX_PORT: int(1024, 65535).optional(),
    MEDIA_NODE_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (at most 64)')
      .optional(),
    MEDIA_PUBLIC_URL: z
      .string()
      .regex(/^wss?:\/\/[^\s]+$/, 'must be a ws:// or wss:// URL')
      .optional(),
    MEDIA_CONTROL_GRACE_MS: int(0, 600_000).default(10_000),
    MEDIA_ICE_TIMEOUT_MS: int(100, 600_000).default(15_000),
    MEDIA_SPEAKING_HOLD_MS: int(0, 10_000).default(400),
    MEDIA_MAX_PARTICIPANTS_PER_ROOM: int(2, 10_000).default(100),
    MEDIA_OFFER_BATCH_MS: int(0, 1_000).default(20),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    REDIS_KEY_PREFIX: z.string().min(1).max(64).default('chat:'),
    MEDIA_ANNOUNCE_TTL_MS: int(300, 3_600_000).default(15_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((e) => (e.MEDIA_RTC_MIN_PORT === undefined) === (e.MEDIA_RTC_MAX_PORT === undefined), {
    message: 'MEDIA_RTC_MIN_PORT and MEDIA_RTC_MAX_PORT go together',
    path: ['MEDIA_RTC_MAX_PORT'],
  })
  // werift rejects a range of one port
  .refine((e) => e.MEDIA_RTC_MIN_PORT === undefined || e.MEDIA_RTC_MIN_PORT < e.MEDIA_RTC_MAX_PORT!, {
    message: 'must be greater than MEDIA_RTC_MIN_PORT',
    path: ['MEDIA_RTC_MAX_PORT'],
  })
  .refine((e) => e.NODE_ENV !== 'production' || e.MEDIA_SECRET, {
    message: 'is required in production (the API and the node share it)',
    path: ['MEDIA_SECRET'],
  });

export interface MediaConfig {
  host: string;
  port: number;
  secret: string;
  /** true when no MEDIA_SECRET was given and one was made up for this process */
  secretGenerated: boolean;
  announcedIp?: string;
  rtcPortRange?: [number, number];
  nodeId: string;
  publicUrl?: string;
  controlGraceMs: number;
  iceTimeoutMs: number;
  speakingHoldMs: number;
  maxParticipantsPerRoom: number;
  /** how long a renegotiation waits for more changes to go into the same offer */
  offerBatchMs: number;
  redisUrl?: string;
  redisKeyPrefix: string;
  announceTtlMs: number;
  logLevel: string;
}

export class MediaConfigError extends Error {
  override readonly name = 'MediaConfigError';
}

export function loadMediaConfig(env: NodeJS.ProcessEnv = process.env): MediaConfig {
  // an empty variable (REDIS_URL= in a compose file) means unset, as it does for the shell's ${X:-default}
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new MediaConfigError(`invalid media node configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    host: e.MEDIA_HOST,
    port: e.MEDIA_PORT,
    secret: e.MEDIA_SECRET ?? randomBytes(24).toString('base64url'),
    secretGenerated: !e.MEDIA_SECRET,
    announcedIp: e.MEDIA_ANNOUNCED_IP,
    rtcPortRange: e.MEDIA_RTC_MIN_PORT !== undefined ? [e.MEDIA_RTC_MIN_PORT, e.MEDIA_RTC_MAX_PORT!] : undefined,
    nodeId: e.MEDIA_NODE_ID ?? `media-${randomBytes(5).toString('hex')}`,
    publicUrl: e.MEDIA_PUBLIC_URL,
    controlGraceMs: e.MEDIA_CONTROL_GRACE_MS,
    iceTimeoutMs: e.MEDIA_ICE_TIMEOUT_MS,
    speakingHoldMs: e.MEDIA_SPEAKING_HOLD_MS,
    maxParticipantsPerRoom: e.MEDIA_MAX_PARTICIPANTS_PER_ROOM,
    offerBatchMs: e.MEDIA_OFFER_BATCH_MS,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    announceTtlMs: e.MEDIA_ANNOUNCE_TTL_MS,
    logLevel: e.LOG_LEVEL,
  };
}
