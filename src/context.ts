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
  /** the client's network address, for limits per address (null when unknown) */
  clientAddress: string | null;
}

export type ContextDeps = Omit<GraphQLContext, 'actor' | 'selfUserIds' | 'clientAddress'>;

/** A fresh context for one operation (or one event execution) of `actor`. */
export const createContext = (deps: ContextDeps, actor: Actor, clientAddress: string | null = null): GraphQLContext => ({
  ...deps,
  actor,
  selfUserIds: new Set<string>(),
  clientAddress,
});

/**
 * The client's address: the socket's peer, or, behind `trustedProxies` proxies, the entry of
 * X-Forwarded-For that the outermost trusted one appended (entries further left are whatever
 * the client sent, so never believed).
 */
export function clientAddressOf(
  socketAddress: string | null | undefined,
  forwardedFor: string | null | undefined,
  trustedProxies: number,
): string | null {
  if (trustedProxies > 0 && forwardedFor) {
    const hops = forwardedFor.split(',').map((h) => h.trim()).filter(Boolean);
    const entry = hops[Math.max(0, hops.length - trustedProxies)];
    if (entry) return entry;
  }
  return socketAddress ?? null;
}
