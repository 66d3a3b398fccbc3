// Event types that exist only on subscriptions.
import type { PresencePayload, TypingPayload, UserSnapshot } from '../pubsub/topics.js';
import { builder } from './builder.js';
import { toGlobalId } from './ids.js';
import { PresenceStatus, User } from './user.js';

/** A user snapshot from an event, in the shape the User type reads. */
export function userFromSnapshot(u: UserSnapshot) {
  return {
    ...u,
    createdAt: new Date(u.createdAt),
    usernameKey: u.username.toLowerCase(),
    // not carried by events: the email resolver shows it only to the user themself anyway
    email: null as unknown as string,
    passwordHash: '',
    presencePreference: 'ONLINE' as const,
  };
}

export const TypingEvent = builder.objectRef<TypingPayload>('TypingEvent').implement({
  fields: (t) => ({
    channelId: t.id({ resolve: (e) => toGlobalId('Channel', e.channelId) }),
    user: t.field({ type: User, resolve: (e) => userFromSnapshot(e.user) }),
    isTyping: t.exposeBoolean('isTyping'),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the indicator ends unless refreshed by another startTyping.',
      resolve: (e) => e.expiresAt,
    }),
  }),
});

export const PresenceEvent = builder.objectRef<PresencePayload>('PresenceEvent').implement({
  fields: (t) => ({
    guildId: t.id({ resolve: (e) => toGlobalId('Guild', e.guildId) }),
    user: t.field({ type: User, resolve: (e) => userFromSnapshot(e.user) }),
    status: t.field({ type: PresenceStatus, resolve: (e) => e.status }),
  }),
});
