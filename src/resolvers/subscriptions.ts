import { builder } from '../schema/builder.js';
import { parseGlobalId } from '../globalIds.js';
import { DeletedMessage, Message } from '../schema/message.js';
import type { ChannelActivityPayload, MessageSnapshot, PublicGuildEvent, PresencePayload, TypingPayload } from '../pubsub/topics.js';
import { ChannelActivityEvent, GuildEvent, PresenceEvent, TypingEvent } from '../schema/realtime.js';
import { asEventParent } from '../schema/events.js';
import type { Message as PrismaMessage } from '../generated/prisma/client.js';

/** A published message as the Message type's parent: its fields answer from the snapshot. */
const fromSnapshot = (s: MessageSnapshot) => asEventParent<MessageSnapshot, PrismaMessage>(s);

builder.subscriptionFields((t) => ({
  messageAdded: t.field({
    type: Message,
    description:
      'Every message sent to the channel after the subscription started, from any server instance, in send order. With `since` (a message cursor or id), first every message after it: resume after a reconnect with no gap and no duplicate.',
    args: { channelId: t.arg.id({ required: true }), since: t.arg.string() },
    subscribe: (_root, args, ctx) =>
      ctx.services.realtime.messageAdded(
        ctx.actor,
        parseGlobalId(args.channelId, 'Channel', 'channelId'),
        args.since ? parseGlobalId(args.since, 'Message', 'since') : null,
      ),
    resolve: (snapshot: MessageSnapshot) => fromSnapshot(snapshot),
  }),
  messageUpdated: t.field({
    type: Message,
    args: { channelId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) =>
      ctx.services.realtime.messageUpdated(ctx.actor, parseGlobalId(args.channelId, 'Channel', 'channelId')),
    resolve: (snapshot: MessageSnapshot) => fromSnapshot(snapshot),
  }),
  messageDeleted: t.field({
    type: DeletedMessage,
    args: { channelId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) =>
      ctx.services.realtime.messageDeleted(ctx.actor, parseGlobalId(args.channelId, 'Channel', 'channelId')),
    resolve: (event: { id: string; channelId: string }) => event,
  }),
  typing: t.field({
    type: TypingEvent,
    description:
      "Others' typing in the channel: isTyping true on startTyping, false on stopTyping, on their next message, or when the indicator expires. Never your own. For the state on entry, subscribe and then read channel.typingUsers.",
    args: { channelId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) =>
      ctx.services.realtime.typing(ctx.actor, parseGlobalId(args.channelId, 'Channel', 'channelId')),
    resolve: (event: TypingPayload) => event,
  }),
  channelActivity: t.field({
    type: ChannelActivityEvent,
    description:
      'Who is here: while this subscription lives you count as having the channel open (several at once count once). The first event lists everyone with it open, you included; then one event per arrival or departure, from every instance. It ends when you lose access to the channel.',
    args: { channelId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) =>
      ctx.services.realtime.channelActivity(ctx.actor, parseGlobalId(args.channelId, 'Channel', 'channelId')),
    resolve: (event: ChannelActivityPayload) => event,
  }),
  presence: t.field({
    type: PresenceEvent,
    description:
      "Status changes of the guild's members, from every instance. For the state on entry, subscribe and then read guild.onlineMembers.",
    args: { guildId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) =>
      ctx.services.realtime.presence(ctx.actor, parseGlobalId(args.guildId, 'Guild', 'guildId')),
    resolve: (event: PresencePayload) => event,
  }),
  guildEvents: t.field({
    type: GuildEvent,
    description:
      "What happens to a guild you belong to: members joining and leaving (with the reason), channels created, updated and deleted, settings and ownership changes, and its deletion, after which the subscription completes. It ends at once if you leave or are removed.",
    args: { guildId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) =>
      ctx.services.realtime.guildEvents(ctx.actor, parseGlobalId(args.guildId, 'Guild', 'guildId')),
    resolve: (event: PublicGuildEvent) => event,
  }),
  mentionAdded: t.field({
    type: Message,
    description: 'Messages that mention you (`<@yourUserId>` in their content), in every guild you belong to.',
    subscribe: (_root, _args, ctx) => ctx.services.realtime.mentions(ctx.actor),
    resolve: (snapshot: MessageSnapshot) => fromSnapshot(snapshot),
  }),
}));
