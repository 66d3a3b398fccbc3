// Builds the service layer. Services hold the rules and authorization; they know nothing
// of GraphQL or HTTP.
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { PubSub } from '../pubsub/topics.js';
import { Access } from './access.js';
import { AuthService } from './auth.js';
import { ChannelService } from './channels.js';
import { GuildService } from './guilds.js';
import { MessageService } from './messages.js';
import { type ConnectionRegistry, PresenceService } from './presence.js';
import { ReadStateService } from './readStates.js';
import { RealtimeService } from './realtime.js';
import { type TypingRegistry, TypingService } from './typing.js';
import { TokenSigner } from './tokens.js';
import { UserService } from './users.js';

export interface ServiceDeps {
  db: Db;
  pubsub: PubSub;
  config: Config;
  connections: ConnectionRegistry;
  typingRegistry: TypingRegistry;
}

export function createServices({ db, pubsub, config, connections, typingRegistry }: ServiceDeps) {
  const access = new Access(db);
  const signer = new TokenSigner(config.JWT_SECRET, config.ACCESS_TOKEN_TTL_SECONDS);
  return {
    auth: new AuthService(db, signer, {
      refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      argon2MemoryKib: config.ARGON2_MEMORY_KIB,
    }),
    users: new UserService(db),
    guilds: new GuildService(db, access, pubsub),
    channels: new ChannelService(db, access, pubsub),
    messages: new MessageService(db, access, pubsub),
    readStates: new ReadStateService(db, access),
    presence: new PresenceService(db, connections),
    typing: new TypingService(db, access, typingRegistry),
    realtime: new RealtimeService(db, access, pubsub),
  };
}

export type Services = ReturnType<typeof createServices>;
