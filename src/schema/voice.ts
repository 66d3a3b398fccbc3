// Voice: voice states, voice sessions and their signals (docs/VOICE.md).
import type { Channel as PrismaChannel } from '../generated/prisma/client.js';
import type { ChannelSnapshot, VoiceEventPayload, VoiceStateSnapshot } from '../pubsub/topics.js';
import type { DeliveredVoiceSignal, IceServer as IceServerShape, VoiceSession as VoiceSessionShape } from '../services/voice.js';
import { toGlobalId } from '../globalIds.js';
import { builder } from './builder.js';
import { Channel } from './channel.js';
import { asEventParent, viewerDependent } from './events.js';
import { userFromSnapshot } from './realtime.js';
import { User } from './user.js';

const channelFromSnapshot = (c: ChannelSnapshot) => asEventParent<ChannelSnapshot, PrismaChannel>(c);

export const VoiceState = builder.objectRef<VoiceStateSnapshot>('VoiceState').implement({
  description:
    "One member in a voice channel. selfMute/selfDeaf are the member's own choice; serverMute/serverDeaf a moderator's (they follow the member within the guild until lifted). speaking comes from the audio level the member's encoder writes into every packet, measured on the media node.",
  fields: (t) => ({
    user: t.field({ type: User, resolve: (s) => userFromSnapshot(s.user) }),
    channel: t.field({ type: Channel, resolve: (s) => channelFromSnapshot(s.channel) }),
    selfMute: t.exposeBoolean('selfMute'),
    selfDeaf: t.exposeBoolean('selfDeaf'),
    serverMute: t.exposeBoolean('serverMute'),
    serverDeaf: t.exposeBoolean('serverDeaf'),
    speaking: t.exposeBoolean('speaking'),
    joinedAt: t.field({ type: 'DateTime', resolve: (s) => s.joinedAt }),
  }),
});

export const VoiceEventKind = builder.enumType('VoiceEventKind', {
  description:
    'JOINED: a member entered a voice channel. LEFT: they left it (themselves, disconnected, their connection lost); `state` is their last state. MOVED: a moderator moved them from `previousChannelId` to `state.channel`. UPDATED: mute or deafen changed. SPEAKING: `state.speaking` changed.',
  values: ['JOINED', 'LEFT', 'MOVED', 'UPDATED', 'SPEAKING'] as const,
});

export const VoiceStateEvent = builder.objectRef<VoiceEventPayload>('VoiceStateEvent').implement({
  description: "A change in one of the guild's voice channels; `state` is the member's state after it.",
  fields: (t) => ({
    kind: t.field({ type: VoiceEventKind, resolve: (e) => e.kind }),
    guildId: t.id({ resolve: (e) => toGlobalId('Guild', e.guildId) }),
    state: t.field({ type: VoiceState, resolve: (e) => e.state }),
    previousChannelId: t.id({
      nullable: true,
      description: 'MOVED: the channel they came from.',
      resolve: (e) => (e.previousChannelId ? toGlobalId('Channel', e.previousChannelId) : null),
    }),
  }),
});

export const IceServer = builder.objectRef<IceServerShape>('IceServer').implement({
  description: "An entry of RTCPeerConnection's iceServers. TURN credentials are time-limited (coturn's REST format).",
  fields: (t) => ({
    urls: t.exposeStringList('urls'),
    username: t.exposeString('username', { nullable: true }),
    credential: t.exposeString('credential', { nullable: true }),
  }),
});

export const VoiceSession = builder.objectRef<VoiceSessionShape>('VoiceSession').implement({
  description:
    'A voice session: open voiceSignals(sessionId, voiceToken) to receive the media node\'s offer, answer with answerVoiceOffer. The token opens this session only, and voiceSignals only until it expires.',
  fields: (t) => ({
    sessionId: t.exposeID('sessionId'),
    voiceToken: t.exposeString('voiceToken'),
    iceServers: t.field({ type: [IceServer], resolve: (s) => s.iceServers }),
    channelId: t.id({ resolve: (s) => toGlobalId('Channel', s.channelId) }),
  }),
});

export const VoiceCloseReason = builder.enumType('VoiceCloseReason', {
  description:
    'LEFT: leaveVoiceChannel, or the voiceSignals subscription ended. REPLACED: joined the same channel again (a new session). MOVED: a moderator moved you (call joinVoiceChannel for your new channel). DISCONNECTED: a moderator disconnected you. TRANSPORT_FAILED: the media connection failed or its node went away. EXPIRED: the session was never opened or its server went away.',
  values: ['LEFT', 'REPLACED', 'MOVED', 'DISCONNECTED', 'TRANSPORT_FAILED', 'EXPIRED'] as const,
});

const VoiceOffer = builder.objectRef<Extract<DeliveredVoiceSignal, { kind: 'OFFER' }>>('VoiceOffer').implement({
  description: "The media node's offer (first connection, and every renegotiation when others come and go): answer with answerVoiceOffer.",
  fields: (t) => ({ sdp: t.exposeString('sdp') }),
});

const VoiceClosed = builder.objectRef<Extract<DeliveredVoiceSignal, { kind: 'CLOSED' }>>('VoiceClosed').implement({
  description: 'The session ended; the subscription completes after it.',
  fields: (t) => ({ reason: t.field({ type: VoiceCloseReason, resolve: (e) => e.reason }) }),
});

export const VoiceSignal = builder.unionType('VoiceSignal', {
  types: [VoiceOffer, VoiceClosed],
  resolveType: (signal: DeliveredVoiceSignal) => (signal.kind === 'OFFER' ? VoiceOffer : VoiceClosed),
});

builder.objectField(Channel, 'voiceStates', (t) =>
  t.field({
    type: [VoiceState],
    description: 'Who is in this voice channel now, across every server instance, by joinedAt; empty for other channels.',
    resolve: (channel, _args, ctx) => ctx.services.voice.channelStates(channel),
  }),
);

builder.objectField(User, 'voiceChannel', (t) =>
  t.field({
    type: Channel,
    nullable: true,
    description: 'The voice channel they are in, where you may see that channel; null otherwise.',
    extensions: viewerDependent,
    resolve: (user, _args, ctx) => ctx.services.voice.voiceChannelOf(ctx.actor, user.id),
  }),
);
