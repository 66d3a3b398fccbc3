// Builds the service layer. Services hold the rules and authorization; they know nothing
// of GraphQL or HTTP.
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { PubSub } from '../pubsub/topics.js';
import { Access } from './access.js';
import { AttachmentService } from './attachments.js';
import { AuthService, memoryRotationStore, redisRotationStore } from './auth.js';
import { ChannelService } from './channels.js';
import { GuildService } from './guilds.js';
import { MessageService } from './messages.js';
import { ModerationService } from './moderation.js';
import { ReactionService } from './reactions.js';
import { RoleService } from './roles.js';
import { SearchService } from './search.js';
import type { ConnectionRegistry, TypingRegistry } from '../realtime/registries.js';
import { PresenceService } from './presence.js';
import { RateLimits } from './rateLimits.js';
import { ReadStateService } from './readStates.js';
import { RealtimeService } from './realtime.js';
import { TypingService } from './typing.js';
import { TokenSigner } from './tokens.js';
import { UserService } from './users.js';

export interface ServiceDeps {
  db: Db;
  pubsub: PubSub;
  config: Config;
  connections: ConnectionRegistry;
  typingRegistry: TypingRegistry;
  onError?: (err: unknown, what?: string) => void;
  /** shared counters across instances; rate limits count in memory without it */
  redis?: Redis;
}

export function createServices({ db, pubsub, config, connections, typingRegistry, onError, redis }: ServiceDeps) {
  const access = new Access(db);
  const limits = new RateLimits(
    {
      messagesPer10s: config.MESSAGE_RATE_LIMIT,
      failedLoginsPer15m: config.LOGIN_FAILURE_LIMIT,
      failedLoginsPerAddressPer15m: config.LOGIN_ADDRESS_LIMIT,
      registrationsPerAddressPerHour: config.REGISTER_ADDRESS_LIMIT,
      searchesPerAddressPerMinute: config.SEARCH_RATE_LIMIT,
      messageSearchesPerMinute: config.MESSAGE_SEARCH_RATE_LIMIT,
    },
    redis,
  );
  const readStates = new ReadStateService(db, access);
  const typing = new TypingService(db, access, pubsub, typingRegistry, config.TYPING_TTL_MS);
  const guilds = new GuildService(db, access, pubsub);
  const roles = new RoleService(db, access);
  const users = new UserService(db, limits);
  const attachments = new AttachmentService(db, {
    uploadDir: config.UPLOAD_DIR,
    maxBytes: config.MAX_UPLOAD_BYTES,
    maxFiles: config.MAX_UPLOAD_FILES,
  });
  const messages = new MessageService(db, access, pubsub, typing, readStates, attachments, limits, onError);
  const signer = new TokenSigner(config.JWT_SECRET, config.ACCESS_TOKEN_TTL_SECONDS, config.JWT_PREVIOUS_SECRETS);
  return {
    auth: new AuthService(
      db,
      signer,
      {
        refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
        argon2MemoryKib: config.ARGON2_MEMORY_KIB,
        sessionCacheMs: config.SESSION_CACHE_MS,
        refreshGraceMs: config.REFRESH_GRACE_MS,
      },
      limits,
      pubsub,
      redis ? redisRotationStore(redis) : memoryRotationStore(),
    ),
    users,
    guilds,
    roles,
    moderation: new ModerationService(db, access, guilds, roles, users),
    channels: new ChannelService(db, access, pubsub),
    messages,
    reactions: new ReactionService(db, access, pubsub, messages),
    readStates,
    presence: new PresenceService(db, pubsub, connections, config.PRESENCE_TTL_MS, onError, users),
    typing,
    realtime: new RealtimeService(access, pubsub, messages),
    attachments,
    search: new SearchService(db, access, limits),
  };
}

export type Services = ReturnType<typeof createServices>;
