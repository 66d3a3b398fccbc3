import { builder } from '../schema/builder.js';
import { parseGlobalId } from '../globalIds.js';
import type { VoiceEventPayload } from '../pubsub/topics.js';
import type { DeliveredVoiceSignal } from '../services/voice.js';
import { VoiceSession, VoiceSignal, VoiceState, VoiceStateEvent } from '../schema/voice.js';

builder.mutationFields((t) => ({
  joinVoiceChannel: t.field({
    type: VoiceSession,
    description:
      'Enters a voice channel (VIEW_CHANNEL and CONNECT; a full channel (userLimit) is CONFLICT unless you have MOVE_MEMBERS, however many join at once). Being in another voice channel leaves it. SERVICE_UNAVAILABLE (retry after extensions.retryAfterMs) when no media node can carry it now. Then open voiceSignals with the session.',
    args: { channelId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.voice.join(ctx.actor, parseGlobalId(args.channelId, 'Channel', 'channelId')),
  }),
  leaveVoiceChannel: t.boolean({
    description: 'Leaves voice; false when you were in none.',
    resolve: (_root, _args, ctx) => ctx.services.voice.leave(ctx.actor),
  }),
  setVoiceState: t.field({
    type: VoiceState,
    description: 'Your own mute and deafen (an omitted argument is unchanged). NOT_FOUND when you are in no voice channel.',
    args: { selfMute: t.arg.boolean(), selfDeaf: t.arg.boolean() },
    resolve: (_root, args, ctx) => ctx.services.voice.setSelf(ctx.actor, args.selfMute, args.selfDeaf),
  }),
  setMemberVoiceState: t.field({
    type: VoiceState,
    description: "A moderator's mute (MUTE_MEMBERS) and deafen (DEAFEN_MEMBERS) of a member in voice, below them in the role hierarchy.",
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }), mute: t.arg.boolean(), deaf: t.arg.boolean() },
    resolve: (_root, args, ctx) =>
      ctx.services.voice.setMember(
        ctx.actor,
        parseGlobalId(args.guildId, 'Guild', 'guildId'),
        parseGlobalId(args.userId, 'User', 'userId'),
        args.mute,
        args.deaf,
      ),
  }),
  disconnectVoiceMember: t.boolean({
    description: 'Takes a member out of voice (MOVE_MEMBERS, role hierarchy); their session closes with DISCONNECTED.',
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.voice.disconnect(ctx.actor, parseGlobalId(args.guildId, 'Guild', 'guildId'), parseGlobalId(args.userId, 'User', 'userId')),
  }),
  moveVoiceMember: t.field({
    type: VoiceState,
    description:
      'Moves a member in voice to another voice channel of the guild (MOVE_MEMBERS, role hierarchy, and CONNECT there); their session closes with MOVED and they join the new channel. FORBIDDEN when the member may not view or connect to that channel; its userLimit holds (CONFLICT) unless you or they have MOVE_MEMBERS in it.',
    args: { guildId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }), channelId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.voice.move(
        ctx.actor,
        parseGlobalId(args.guildId, 'Guild', 'guildId'),
        parseGlobalId(args.userId, 'User', 'userId'),
        parseGlobalId(args.channelId, 'Channel', 'channelId'),
      ),
  }),
  answerVoiceOffer: t.boolean({
    description: "Your browser's answer to the last offer of voiceSignals.",
    args: { sessionId: t.arg.id({ required: true }), voiceToken: t.arg.string({ required: true }), sdp: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.voice.answer(ctx.actor, args.sessionId, args.voiceToken, args.sdp),
  }),
  addVoiceCandidate: t.boolean({
    description: 'A trickled ICE candidate of your browser: JSON of RTCIceCandidateInit (or the candidate line); null ends the candidates.',
    args: { sessionId: t.arg.id({ required: true }), voiceToken: t.arg.string({ required: true }), candidate: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.services.voice.candidate(ctx.actor, args.sessionId, args.voiceToken, args.candidate ?? null),
  }),
}));

builder.subscriptionFields((t) => ({
  voiceStates: t.field({
    type: VoiceStateEvent,
    description:
      "Joins, leaves, moves, mute/deafen changes and speaking in the guild's voice channels you may view, from every instance (one VoiceStateEvent per change, its `kind` says which). Members only; it ends if you leave or are removed. For the state on entry, subscribe and then read channel.voiceStates.",
    args: { guildId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => ctx.services.realtime.voiceStates(ctx.actor, parseGlobalId(args.guildId, 'Guild', 'guildId')),
    resolve: (event: VoiceEventPayload) => event,
  }),
  voiceSignals: t.field({
    type: VoiceSignal,
    description:
      "Your voice session's signalling: the media node's offers (answer each with answerVoiceOffer), then VoiceClosed when it ends. Opening it connects you to the media node (SERVICE_UNAVAILABLE, retryable, when it cannot be reached); ending it (or losing the socket) leaves voice.",
    args: { sessionId: t.arg.id({ required: true }), voiceToken: t.arg.string({ required: true }) },
    subscribe: (_root, args, ctx) => ctx.services.voice.signals(ctx.actor, args.sessionId, args.voiceToken),
    resolve: (signal: DeliveredVoiceSignal) => signal,
  }),
}));
