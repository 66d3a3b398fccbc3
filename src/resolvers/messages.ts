import type { Message as PrismaMessage } from '../generated/prisma/client.js';
import type { MessageSnapshot } from '../pubsub/topics.js';
import { builder } from '../schema/builder.js';
import { asEventParent } from '../schema/events.js';
import { parseGlobalId, parseOptionalGlobalId, toGlobalId } from '../globalIds.js';
import { Message } from '../schema/message.js';

const SendMessageInput = builder.inputType('SendMessageInput', {
  fields: (t) => ({
    channelId: t.id({ required: true }),
    content: t.string({ required: true }),
    replyToId: t.id(),
    attachmentIds: t.idList(),
    nonce: t.string({
      description:
        'Your id of this send (1 to 64 characters, unique among your sends for 24 hours): sending again with the same nonce returns the first message instead of storing another. It comes back as Message.nonce.',
    }),
  }),
});

builder.queryFields((t) => ({
  message: t.field({
    type: Message,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.messages.get(ctx.actor, parseGlobalId(id, 'Message')),
  }),
}));

builder.mutationFields((t) => ({
  sendMessage: t.field({
    type: Message,
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      // answered from what the event carries, like a subscriber's copy
      asEventParent<MessageSnapshot, PrismaMessage>(
        await ctx.services.messages.send(ctx.actor, {
          channelId: parseGlobalId(input.channelId, 'Channel', 'channelId'),
          content: input.content,
          replyToId: parseOptionalGlobalId(input.replyToId, 'Message', 'replyToId'),
          attachmentIds: input.attachmentIds?.map((id) => parseGlobalId(id, 'Attachment', 'attachmentIds')),
          nonce: input.nonce,
        }),
      ),
  }),
  editMessage: t.field({
    type: Message,
    description: 'Author only; sets editedAt.',
    args: { id: t.arg.id({ required: true }), content: t.arg.string({ required: true }) },
    resolve: (_root, { id, content }, ctx) =>
      ctx.services.messages.edit(ctx.actor, parseGlobalId(id, 'Message'), content),
  }),
  addReaction: t.field({
    type: Message,
    description: 'Needs ADD_REACTIONS; reacting twice with one emoji counts once.',
    args: { messageId: t.arg.id({ required: true }), emoji: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.reactions.add(ctx.actor, parseGlobalId(args.messageId, 'Message', 'messageId'), args.emoji),
  }),
  removeReaction: t.field({
    type: Message,
    args: { messageId: t.arg.id({ required: true }), emoji: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.reactions.remove(ctx.actor, parseGlobalId(args.messageId, 'Message', 'messageId'), args.emoji),
  }),
  deleteMessage: t.id({
    description: 'The author, or a member with MANAGE_MESSAGES.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) =>
      toGlobalId('Message', await ctx.services.messages.delete(ctx.actor, parseGlobalId(id, 'Message'))),
  }),
}));
