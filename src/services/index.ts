// Builds the service layer. Services hold the rules and authorization; they know nothing
// of GraphQL or HTTP.
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { Statements } from '../db/statements.js';
import type { PubSub } from '../pubsub/topics.js';
import { Access } from './access.js';
import { AttachmentService } from './attachments.js';
import { AuthService, memoryRotationStore, redisRotationStore } from './auth.js';
import { ChannelService } from './channels.js';
import { DirectChannelService } from './directChannels.js';
import { GuildService } from './guilds.js';
import { LobbyService } from './lobby.js';
import { MessageService } from './messages.js';
import { ModerationService } from './moderation.js';
import { OverwriteService } from './overwrites.js';
import { ReactionService } from './reactions.js';
import { RoleService } from './roles.js';
import type { ActivityRegistry, ConnectionRegistry, TypingRegistry, VoiceRegistry } from '../realtime/registries.js';
import type { VoiceMedia } from '../voice/media.js';
import { VoiceService } from './voice.js';
import { ActivityService } from './activity.js';
import { Passwords } from './passwords.js';
import { SearchService } from './search.js';
import { PresenceService } from './presence.js';
import { ProfileService } from './profiles.js';
import { RateLimits } from './rateLimits.js';
import { ReadStateService } from './readStates.js';
import { RealtimeService } from './realtime.js';
import { TypingService } from './typing.js';
import { LoginChallenges, TokenSigner } from './tokens.js';
import { TwoFactorService } from './twoFactor.js';
import { UserService } from './users.js';

export interface ServiceDeps {
  db: Db;
  /** the hottest statements, below the Prisma client (src/db/statements.ts) */
  statements: Statements;
  pubsub: PubSub;
  config: Config;
  connections: ConnectionRegistry;
  typingRegistry: TypingRegistry;
  activityRegistry: ActivityRegistry;
  voiceRegistry: VoiceRegistry;
  /** the media nodes (src/voice/media.ts) */
  media: VoiceMedia;
  onError?: (err: unknown, what?: string) => void;
  /** shared counters across instances; rate limits count in memory without it */
  redis?: Redis;
}

export function createServices({ db, statements, pubsub, config, connections, typingRegistry, activityRegistry, voiceRegistry, media, onError, redis }: ServiceDeps) {
  const access = new Access(db);
  const limits = new RateLimits(
    {
      messagesPer10s: config.MESSAGE_RATE_LIMIT,
      failedLoginsPer15m: config.LOGIN_FAILURE_LIMIT,
      failedLoginsPerAddressPer15m: config.LOGIN_ADDRESS_LIMIT,
      registrationsPerAddressPerHour: config.REGISTER_ADDRESS_LIMIT,
      searchesPerAddressPerMinute: config.SEARCH_RATE_LIMIT,
      failedTwoFactorCodesPer15m: config.TWO_FACTOR_FAILURE_LIMIT,
      messageSearchesPerMinute: config.MESSAGE_SEARCH_RATE_LIMIT,
    },
    redis,
  );
  const readStates = new ReadStateService(db, access);
  const typing = new TypingService(db, access, pubsub, typingRegistry, config.TYPING_TTL_MS);
  const guilds = new GuildService(db, access, pubsub);
  const lobby = new LobbyService(db, guilds, config.DEFAULT_GUILD_NAME);
  const roles = new RoleService(db, access, pubsub);
  const users = new UserService(db, limits);
  const attachments = new AttachmentService(db, {
    uploadDir: config.UPLOAD_DIR,
    maxBytes: config.MAX_UPLOAD_BYTES,
    maxFiles: config.MAX_UPLOAD_FILES,
    maxAvatarBytes: config.MAX_AVATAR_BYTES,
  });
  const directChannels = new DirectChannelService(db, access, pubsub);
  const activity = new ActivityService(db, access, pubsub, activityRegistry, config.PRESENCE_TTL_MS, (err) => onError?.(err, 'channel activity heartbeat failed'));
  const messages = new MessageService(db, statements, access, pubsub, typing, readStates, attachments, limits, directChannels, onError);
  const signer = new TokenSigner(config.JWT_SECRET, config.ACCESS_TOKEN_TTL_SECONDS, config.JWT_PREVIOUS_SECRETS);
  const passwords = new Passwords(db, limits, config.ARGON2_MEMORY_KIB);
  const twoFactor = new TwoFactorService(db, passwords, limits, {
    issuer: config.TOTP_ISSUER,
    // the JWT secrets open what they sealed before TOTP_ENCRYPTION_KEY was set (or rotated)
    encryptionSecrets: [
      ...(config.TOTP_ENCRYPTION_KEY ? [config.TOTP_ENCRYPTION_KEY] : []),
      config.JWT_SECRET,
      ...config.JWT_PREVIOUS_SECRETS,
    ],
  });
  const realtime = new RealtimeService(access, pubsub, messages, activity);
  const voice = new VoiceService(db, access, pubsub, voiceRegistry, realtime, roles, media, config, onError);
  return {
    auth: new AuthService(
      db,
      signer,
      {
        refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
        sessionCacheMs: config.SESSION_CACHE_MS,
        refreshGraceMs: config.REFRESH_GRACE_MS,
      },
      limits,
      pubsub,
      redis ? redisRotationStore(redis) : memoryRotationStore(),
      passwords,
      twoFactor,
      new LoginChallenges(config.JWT_SECRET, config.TWO_FACTOR_CHALLENGE_TTL_SECONDS),
      // the account exists either way: a lobby that cannot be joined now is no reason to refuse it
      (userId) => lobby.welcome(userId).catch((err: unknown) => onError?.(err, 'joining the lobby failed')),
    ),
    lobby,
    twoFactor,
    users,
    profiles: new ProfileService(db, pubsub, attachments),
    guilds,
    roles,
    moderation: new ModerationService(db, access, guilds, roles, users),
    channels: new ChannelService(db, access, pubsub),
    overwrites: new OverwriteService(db, access, pubsub, roles),
    directChannels,
    messages,
    reactions: new ReactionService(db, access, pubsub, messages),
    readStates,
    presence: new PresenceService(db, pubsub, connections, config.PRESENCE_TTL_MS, onError, users),
    typing,
    realtime,
    voice,
    activity,
    attachments,
    search: new SearchService(db, access, limits),
  };
}

export type Services = ReturnType<typeof createServices>;
