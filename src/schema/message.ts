import type { MessageSnapshot } from '../pubsub/topics.js';
import { builder } from './builder.js';
import { asEventParent, fromEvent, viewerDependent } from './events.js';
import { toGlobalId } from '../globalIds.js';
import { User } from './user.js';

type Carried = Partial<MessageSnapshot>;

export const Attachment = builder.prismaObject('Attachment', {
  fields: (t) => ({
    id: t.id({ resolve: (a) => toGlobalId('Attachment', a.id) }),
    fileName: t.exposeString('fileName'),
    contentType: t.exposeString('contentType'),
    size: t.exposeInt('size'),
    url: t.string({ resolve: (a) => `/static/${a.storedName}` }),
  }),
});

export const Message = builder.prismaNode('Message', {
  id: { field: 'id' },
  fields: (t) => ({
    channel: t.relation('channel', {
      extensions: fromEvent<Carried>((m) => (m.channel ? asEventParent(m.channel) : undefined)),
    }),
    author: t.relation('author', { extensions: fromEvent<Carried>((m) => m.author && asEventParent(m.author)) }),
    content: t.exposeString('content'),
    nonce: t.exposeString('nonce', {
      nullable: true,
      description:
        "The sender's client-chosen id of the send (SendMessageInput.nonce), for an optimistic client to tell its own message from a new one.",
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    editedAt: t.expose('editedAt', { type: 'DateTime', nullable: true }),
    replyTo: t.relation('replyTo', {
      nullable: true,
      // a reply target's own reply target is not carried: undefined falls back to the row
      extensions: fromEvent<Carried>((m) => (m.replyTo === undefined ? undefined : m.replyTo && asEventParent(m.replyTo))),
    }),
    attachments: t.relation('attachments', { extensions: fromEvent<Carried>((m) => m.attachments) }),
    reactions: t.field({
      type: [ReactionGroup],
      description: 'One group per emoji, in order of first use.',
      resolve: (message, _args, ctx) => ctx.services.reactions.groups(ctx.actor, message.id),
      extensions: fromEvent<Carried>((m, _args, ctx) =>
        m.reactions?.map((r) => ({
          emoji: r.emoji,
          count: r.userIds.length,
          viewerReacted: ctx.actor.userId !== null && r.userIds.includes(ctx.actor.userId),
        })),
      ),
    }),
    mentions: t.field({
      type: [User],
      select: { mentions: { select: { user: true } } },
      resolve: (message) => message.mentions.map((m) => m.user),
      extensions: fromEvent<Carried>((m) => m.mentions?.map((u) => asEventParent(u))),
    }),
  }),
});

export const ReactionGroup = builder
  .objectRef<{ emoji: string; count: number; viewerReacted: boolean }>('ReactionGroup')
  .implement({
    fields: (t) => ({
      emoji: t.exposeString('emoji'),
      count: t.exposeInt('count'),
      viewerReacted: t.exposeBoolean('viewerReacted', { extensions: viewerDependent }),
    }),
  });

export const DeletedMessage = builder.objectRef<{ id: string; channelId: string }>('DeletedMessage').implement({
  fields: (t) => ({
    id: t.id({ resolve: (d) => toGlobalId('Message', d.id) }),
    channelId: t.id({ resolve: (d) => toGlobalId('Channel', d.channelId) }),
  }),
});
