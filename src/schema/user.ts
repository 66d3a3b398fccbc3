import type { User as PrismaUser } from '../generated/prisma/client.js';
import type { GraphQLContext } from '../context.js';
import type { ProfileSnapshot, UserSnapshot } from '../pubsub/topics.js';
import { profileSnapshot } from '../services/snapshots.js';
import { builder } from './builder.js';
import { isEventParent, viewerDependent } from './events.js';
import { connectionFields } from './pageInfo.js';

type CustomStatusShape = NonNullable<ProfileSnapshot['customStatus']>;

export const CustomStatus = builder.objectRef<CustomStatusShape>('CustomStatus').implement({
  description: 'What the user says they are up to; null once it has expired.',
  fields: (t) => ({
    text: t.exposeString('text', { nullable: true }),
    emoji: t.exposeString('emoji', { nullable: true }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.expiresAt }),
  }),
});

/** The profile of a row (its columns), of an event's user (what it carries), or loaded. */
function profileOf(user: PrismaUser, ctx: GraphQLContext): ProfileSnapshot | null | Promise<ProfileSnapshot | null> {
  const carried = (user as unknown as UserSnapshot).profile;
  if (carried) return carried;
  if (user.bio !== undefined) return profileSnapshot(user);
  return ctx.services.users.profile(ctx.actor, user.id);
}

export const PresenceStatus = builder.enumType('PresenceStatus', {
  values: ['ONLINE', 'IDLE', 'DND', 'OFFLINE'] as const,
});

export const User = builder.prismaNode('User', {
  id: { field: 'id' },
  fields: (t) => ({
    username: t.exposeString('username'),
    displayName: t.exposeString('displayName'),
    email: t.string({
      nullable: true,
      description: 'Only visible to the user themself.',
      extensions: viewerDependent,
      resolve: async (user, _args, ctx) => {
        if (user.id !== ctx.actor.userId && !ctx.selfUserIds.has(user.id)) return null;
        // a user from an event or a history page carries no email: the viewer's own is read
        return user.email ?? (await ctx.services.users.ownEmail(user.id));
      },
    }),
    twoFactorEnabled: t.boolean({
      nullable: true,
      description: 'Whether signing in takes a second factor. Only visible to the user themself.',
      extensions: viewerDependent,
      resolve: async (user, _args, ctx) => {
        if (user.id !== ctx.actor.userId && !ctx.selfUserIds.has(user.id)) return null;
        return user.twoFactorEnabledAt !== undefined
          ? user.twoFactorEnabledAt !== null
          : ctx.services.twoFactor.isEnabled(user.id);
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'Account creation date.' }),
    // Counters kept in the row by triggers (prisma/migrations/*_history_counters), never a count
    // of history. A parent without them (an event's or a history page's author) loads them,
    // batched per operation.
    ownedGuildCount: t.int({
      description: 'Number of guilds (servers) they own.',
      resolve: (user, _args, ctx) =>
        typeof user.ownedGuildCount === 'number'
          ? user.ownedGuildCount
          : ctx.services.users.counters(ctx.actor, user.id).then((c) => c.ownedGuildCount),
    }),
    messageCount: t.int({
      description: 'Number of messages they have sent (and not deleted).',
      resolve: (user, _args, ctx) =>
        typeof user.messageCount === 'number'
          ? user.messageCount
          : ctx.services.users.counters(ctx.actor, user.id).then((c) => c.messageCount),
    }),
    bio: t.string({
      nullable: true,
      resolve: async (user, _args, ctx) => (await profileOf(user, ctx))?.bio ?? null,
    }),
    avatarUrl: t.string({
      nullable: true,
      description: 'Where the avatar image is served (like attachments), or null.',
      resolve: async (user, _args, ctx) => {
        const name = (await profileOf(user, ctx))?.avatarName;
        return name ? `/static/${name}` : null;
      },
    }),
    customStatus: t.field({
      type: CustomStatus,
      nullable: true,
      description: 'Null once expired, and to anyone who shares no guild with them (like status).',
      resolve: async (user, _args, ctx) => {
        // an event's user is delivered to members of the guild or channel it happened in
        if (!isEventParent(user) && !(await ctx.services.users.canSee(ctx.actor, user.id))) return null;
        const status = (await profileOf(user, ctx))?.customStatus;
        return status && (!status.expiresAt || Date.parse(status.expiresAt) > Date.now()) ? status : null;
      },
    }),
    discoverable: t.boolean({
      nullable: true,
      description: 'Whether the directory (users(search)) finds them beyond their guilds. Only visible to the user themself.',
      extensions: viewerDependent,
      resolve: async (user, _args, ctx) => {
        if (user.id !== ctx.actor.userId) return null;
        return user.discoverable ?? (await ctx.services.users.ownSettings(user.id))?.discoverable ?? null;
      },
    }),
    status: t.field({
      type: PresenceStatus,
      description: 'OFFLINE to anyone who shares no guild with them.',
      // an event's user is delivered to members of the guild or channel it happened in
      resolve: (user, _args, ctx) =>
        isEventParent(user) ? ctx.services.presence.statusOf(user.id) : ctx.services.presence.statusFor(ctx.actor, user.id),
    }),
  }),
});

export const UserConnection = builder.connectionObject(
  { type: User, name: 'UserConnection', fields: connectionFields },
  { name: 'UserEdge' },
);
