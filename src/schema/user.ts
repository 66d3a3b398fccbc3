import { builder } from './builder.js';
import { viewerDependent } from './events.js';
import { connectionFields } from './pageInfo.js';

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
      resolve: (user, _args, ctx) =>
        user.id === ctx.actor.userId || ctx.selfUserIds.has(user.id) ? (user.email ?? null) : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'Account creation date.' }),
    // Counters kept in the row by triggers (prisma/migrations/*_history_counters), never a count
    // of history. `select` lets a parent without them (an event's author snapshot) load them.
    ownedGuildCount: t.int({
      description: 'Number of guilds (servers) they own.',
      select: { ownedGuildCount: true },
      resolve: (user) => user.ownedGuildCount,
    }),
    messageCount: t.int({
      description: 'Number of messages they have sent (and not deleted).',
      select: { messageCount: true },
      resolve: (user) => user.messageCount,
    }),
    status: t.field({
      type: PresenceStatus,
      resolve: (user, _args, ctx) => ctx.services.presence.statusOf(user.id),
    }),
  }),
});

export const UserConnection = builder.connectionObject(
  { type: User, name: 'UserConnection', fields: connectionFields },
  { name: 'UserEdge' },
);
