import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { PubSub } from './pubsub/topics.js';
import type { Actor } from './services/actor.js';
import type { Services } from './services/index.js';

/** What every resolver receives: who asks, and the services to ask. */
export interface GraphQLContext {
  actor: Actor;
  services: Services;
  /** for Pothos' Prisma plugin, which loads relations the selection asks for */
  prisma: Db;
  pubsub: PubSub;
  config: Config;
  /** users this request proved to be (register/login/refresh answer with their own profile) */
  selfUserIds: Set<string>;
}

export type ContextDeps = Omit<GraphQLContext, 'actor' | 'selfUserIds'>;

/** A fresh context for one operation (or one event execution) of `actor`. */
export const createContext = (deps: ContextDeps, actor: Actor): GraphQLContext => ({
  ...deps,
  actor,
  selfUserIds: new Set<string>(),
});
