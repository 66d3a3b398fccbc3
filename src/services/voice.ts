// Voice: who is in which voice channel, muted or deafened how, speaking or not (one voice
// state per user across every instance), the rules of joining, moving and moderating, and the
// signalling between a participant's browser and the media node (docs/VOICE.md).
//
// A join makes a voice session (sessionId, also the participant's id on the media node) and a
// short-lived voice token scoped to user + channel + session. The participant then opens
// voiceSignals: the instance holding that stream joins the media node, relays the node's offers
// to it and keeps the voice state alive (heartbeats, as presence does). When the stream ends
// (the socket died, the member was removed), the node reports the participant left, or the
// node is lost, the voice state goes. A state whose instance crashed lapses and any surviving
// instance's sweep reports it once.
import { createHmac, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { PubSub, VoiceCloseReason, VoiceEventKind, VoiceEventPayload, VoiceSignalPayload, VoiceStateSnapshot } from '../pubsub/topics.js';
import type { VoiceRegistry, VoiceStateEntry } from '../realtime/registries.js';
import { type MediaEvent, MediaUnavailableError, type VoiceMedia } from '../voice/media.js';
import type { Access } from './access.js';
import { Actor } from './actor.js';
import { DomainError, badInput, conflict, forbidden, notFound, serviceUnavailable } from './errors.js';
import { Permission, has } from './permissions.js';
import type { RealtimeService } from './realtime.js';
import type { RoleService } from './roles.js';
import { channelSnapshot, loadUserSnapshot } from './snapshots.js';
import { EventStream } from './streams.js';

export interface IceServer {
  urls: string[];
  username: string | null;
  credential: string | null;
}

export interface VoiceSession {
  sessionId: string;
  voiceToken: string;
  iceServers: IceServer[];
  channelId: string;
}

/** A signal as the voiceSignals subscription delivers it (FORWARDING is internal). */
export type DeliveredVoiceSignal = Extract<VoiceSignalPayload, { kind: 'OFFER' | 'CLOSED' }>;

interface LocalSession {
  userId: string;
  stream: EventStream<DeliveredVoiceSignal>;
}

const TOKEN_AUDIENCE = 'chat:voice';

export const snapshotOf = (e: VoiceStateEntry): VoiceStateSnapshot => ({
  user: e.user,
  channel: e.channel,
  selfMute: e.selfMute,
  selfDeaf: e.selfDeaf,
  serverMute: e.serverMute,
  serverDeaf: e.serverDeaf,
  speaking: e.speaking,
  joinedAt: e.joinedAt,
});

/** A media node that cannot be reached is SERVICE_UNAVAILABLE (retryable), never an internal error. */
const mediaFailure = (err: unknown): unknown =>
  err instanceof MediaUnavailableError ? serviceUnavailable('No media node is reachable for this voice channel now; retry shortly.') : err;

const forwardingOf = (e: VoiceStateEntry) => ({ muted: e.serverMute || e.selfMute, deafened: e.serverDeaf || e.selfDeaf });

export class VoiceService {
  /** the sessions whose voiceSignals stream this instance holds */
  private readonly local = new Map<string, LocalSession>();
  private timer?: NodeJS.Timeout;
  private readonly tokenKey: Uint8Array;

  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
    private readonly registry: VoiceRegistry,
    private readonly realtime: RealtimeService,
    private readonly roles: RoleService,
    private readonly media: VoiceMedia,
    private readonly config: Config,
    private readonly onError: (err: unknown, what?: string) => void = () => {},
  ) {
    // a key of its own, derived from JWT_SECRET: a voice token is never an access token
    this.tokenKey = createHmac('sha256', config.JWT_SECRET).update('voice-token').digest();
    media.onEvent((e) => void this.mediaEvent(e).catch((err: unknown) => onError(err, 'voice: media event failed')));
    media.onNodeLost((ids) => {
      for (const id of ids) void this.endLocal(id, 'TRANSPORT_FAILED');
    });
  }

  /** A state lapses after half the presence TTL without a heartbeat; heartbeats and sweeps run every quarter. */
  private get lifetime() {
    return Math.ceil(this.config.PRESENCE_TTL_MS / 2);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick().catch((err: unknown) => this.onError(err, 'voice heartbeat failed')), Math.max(50, Math.floor(this.config.PRESENCE_TTL_MS / 4)));
    this.timer.unref();
  }

  /** Graceful shutdown: this instance's sessions end (their participants reconnect elsewhere). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.local.keys()].map((id) => this.endLocal(id, 'TRANSPORT_FAILED')));
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    await this.registry.heartbeat(
      [...this.local].map(([sessionId, s]) => ({ userId: s.userId, sessionId })),
      now + this.lifetime,
    );
    for (const gone of await this.registry.sweep(now)) {
      await this.pubsub.publish('voiceSignal', gone.sessionId, { kind: 'CLOSED', sessionId: gone.sessionId, reason: 'EXPIRED' });
      await this.publish('LEFT', gone);
    }
  }

  // ---- reading ----

  /** Who is in a voice channel (empty for any other channel); the caller may view the channel. */
  async channelStates(channel: { id: string; type: string }): Promise<VoiceStateSnapshot[]> {
    if (channel.type !== 'VOICE') return [];
    return (await this.registry.inChannel(channel.id)).map(snapshotOf);
  }

  /** The voice channel the user is in, if the viewer may view it; null otherwise. */
  async voiceChannelOf(actor: Actor, userId: string) {
    if (!actor.isSignedIn) return null;
    const state = await this.registry.get(userId);
    if (!state) return null;
    try {
      return await this.access.requireChannel(actor, state.channelId);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  // ---- the participant ----

  async join(actor: Actor, channelId: string): Promise<VoiceSession> {
    const userId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    if (channel.type !== 'VOICE' || channel.guildId === null) throw badInput('This is not a voice channel.', 'channelId');
    const permissions = await this.access.channelPermissions(actor, channelId);
    if (!has(permissions, Permission.CONNECT)) throw forbidden('You need the CONNECT permission in this channel.');
    // members with MOVE_MEMBERS may exceed the limit; for the others the registry counts and writes in one step
    const limit = has(permissions, Permission.MOVE_MEMBERS) ? 0 : channel.userLimit;
    const full = () => conflict(`This voice channel is full (${channel.userLimit}).`, 'channelId');
    // no node to carry the channel: refused before any state is written, retryable
    await this.media.reachable(channelId).catch((err: unknown) => {
      throw mediaFailure(err);
    });
    const [user, restricted, before, member] = await Promise.all([
      loadUserSnapshot(this.db, userId),
      this.db.permissionOverwrite.count({ where: { channelId } }).then((n) => n > 0),
      this.registry.get(userId),
      // a moderator's mute and deafen stay on the member: leaving and joining does not lift them
      this.db.member.findUnique({ where: { guildId_userId: { guildId: channel.guildId, userId } }, select: { voiceMuted: true, voiceDeafened: true } }),
    ]);
    const entry: VoiceStateEntry = {
      userId,
      guildId: channel.guildId,
      channelId,
      sessionId: randomBytes(12).toString('hex'),
      selfMute: before?.selfMute ?? false,
      selfDeaf: before?.selfDeaf ?? false,
      serverMute: member?.voiceMuted ?? false,
      serverDeaf: member?.voiceDeafened ?? false,
      speaking: false,
      joinedAt: before?.channelId === channelId ? before.joinedAt : new Date().toISOString(),
      user,
      channel: channelSnapshot(channel),
      restricted,
    };
    const replaced = await this.registry.put(entry, Date.now() + this.lifetime, limit);
    if (replaced === 'full') throw full();
    if (replaced) {
      await this.closeSession(replaced.sessionId, replaced.channelId === channelId ? 'REPLACED' : 'LEFT');
      if (replaced.channelId !== channelId) await this.publish('LEFT', replaced);
    }
    if (replaced?.channelId !== channelId) await this.publish('JOINED', entry);
    return { sessionId: entry.sessionId, voiceToken: await this.issueToken(entry), iceServers: this.iceServers(userId), channelId };
  }

  async leave(actor: Actor): Promise<boolean> {
    const userId = actor.requireUser();
    const state = await this.registry.get(userId);
    if (!state) return false;
    return this.endSession(userId, state.sessionId, 'LEFT');
  }

  async setSelf(actor: Actor, selfMute: boolean | null | undefined, selfDeaf: boolean | null | undefined): Promise<VoiceStateSnapshot> {
    const userId = actor.requireUser();
    const state = await this.registry.get(userId);
    if (!state) throw notFound('Voice state');
    const patch = { ...(selfMute != null ? { selfMute } : {}), ...(selfDeaf != null ? { selfDeaf } : {}) };
    return this.change(state, patch);
  }

  // ---- moderators ----

  async setMember(actor: Actor, guildId: string, userId: string, mute: boolean | null | undefined, deaf: boolean | null | undefined): Promise<VoiceStateSnapshot> {
    if (mute == null && deaf == null) throw badInput('Give mute, deaf or both.', 'mute');
    const membership = await this.access.requireMember(actor, guildId);
    if (mute != null) await this.access.requirePermission(actor, guildId, 'MUTE_MEMBERS');
    if (deaf != null) await this.access.requirePermission(actor, guildId, 'DEAFEN_MEMBERS');
    const state = await this.moderated(actor, membership, guildId, userId);
    await this.db.member.updateMany({
      where: { guildId, userId },
      data: { ...(mute != null ? { voiceMuted: mute } : {}), ...(deaf != null ? { voiceDeafened: deaf } : {}) },
    });
    return this.change(state, { ...(mute != null ? { serverMute: mute } : {}), ...(deaf != null ? { serverDeaf: deaf } : {}) });
  }

  async disconnect(actor: Actor, guildId: string, userId: string): Promise<boolean> {
    const membership = await this.access.requirePermission(actor, guildId, 'MOVE_MEMBERS');
    const state = await this.moderated(actor, membership, guildId, userId);
    if (!(await this.endSession(userId, state.sessionId, 'DISCONNECTED'))) throw notFound('Voice state');
    return true;
  }

  /**
   * Moves a member to another voice channel of the guild: their session there ends (closed,
   * reason MOVED) and they call joinVoiceChannel for the new one, already in it. As on Discord
   * the mover needs MOVE_MEMBERS (in the guild) and CONNECT in the target, and the member must
   * be able to view and connect to it (FORBIDDEN otherwise: a move is no way around the
   * channel's permissions). The target's userLimit holds (CONFLICT) unless the mover, or the
   * member, has MOVE_MEMBERS in that channel (an overwrite there can take it away).
   */
  async move(actor: Actor, guildId: string, userId: string, channelId: string): Promise<VoiceStateSnapshot> {
    const membership = await this.access.requirePermission(actor, guildId, 'MOVE_MEMBERS');
    const channel = await this.access.requireChannel(actor, channelId);
    if (channel.type !== 'VOICE' || channel.guildId !== guildId) throw badInput('Move to a voice channel of the same guild.', 'channelId');
    const state = await this.moderated(actor, membership, guildId, userId);
    if (state.channelId === channelId) return snapshotOf(state);
    const moverPermissions = await this.access.channelPermissions(actor, channelId);
    if (!has(moverPermissions, Permission.CONNECT)) throw forbidden('You need the CONNECT permission in the channel you move them to.');
    // the member's own permissions there, as if they joined it themselves
    let theirs = 0n;
    try {
      theirs = await this.access.channelPermissions(new Actor(this.db, userId), channelId);
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'NOT_FOUND')) throw err;
    }
    if (!has(theirs, Permission.VIEW_CHANNEL) || !has(theirs, Permission.CONNECT))
      throw forbidden('This member may not connect to that channel (VIEW_CHANNEL and CONNECT).');
    const limit = has(theirs, Permission.MOVE_MEMBERS) || has(moverPermissions, Permission.MOVE_MEMBERS) ? 0 : channel.userLimit;
    const restricted = (await this.db.permissionOverwrite.count({ where: { channelId } })) > 0;
    const sessionId = randomBytes(12).toString('hex');
    const result = await this.registry.move(
      userId,
      state.sessionId,
      { channelId, channel: channelSnapshot(channel), restricted, sessionId, speaking: false, joinedAt: new Date().toISOString() },
      limit,
    );
    if (result === 'full') throw conflict(`That voice channel is full (${channel.userLimit}).`, 'channelId');
    if (!result) throw notFound('Voice state');
    const moved = result;
    await this.closeSession(state.sessionId, 'MOVED');
    await this.publish('MOVED', moved, state.channelId);
    return snapshotOf(moved);
  }

  private async moderated(actor: Actor, membership: Awaited<ReturnType<Access['requireMember']>>, guildId: string, userId: string) {
    const actorUserId = actor.requireUser();
    const state = await this.registry.get(userId);
    if (!state || state.guildId !== guildId) throw notFound('Voice state');
    const rank = await this.roles.rankOf(guildId, userId);
    if (!rank) throw notFound('Voice state');
    this.roles.assertOutranks(membership, actorUserId, rank, { self: true });
    return state;
  }

  // ---- signalling ----

  /** Time-limited TURN credentials in coturn's REST format, and the STUN servers. */
  iceServers(userId: string): IceServer[] {
    const servers: IceServer[] = [];
    if (this.config.VOICE_STUN_URLS.length) servers.push({ urls: this.config.VOICE_STUN_URLS, username: null, credential: null });
    if (this.config.VOICE_TURN_URLS.length && this.config.VOICE_TURN_SECRET) {
      const username = `${Math.floor(Date.now() / 1000) + this.config.VOICE_TURN_TTL_SECONDS}:${userId}`;
      const credential = createHmac('sha1', this.config.VOICE_TURN_SECRET).update(username).digest('base64');
      servers.push({ urls: this.config.VOICE_TURN_URLS, username, credential });
    }
    return servers;
  }

  private issueToken(entry: VoiceStateEntry): Promise<string> {
    return new SignJWT({ cid: entry.channelId, sid: entry.sessionId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(entry.userId)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.config.VOICE_TOKEN_TTL_SECONDS}s`)
      .sign(this.tokenKey);
  }

  /**
   * The live voice state a token opens: the token must be this user's, for this session, and
   * the session still current in the channel it names. Opening voiceSignals needs an unexpired
   * token; answers and candidates are accepted while the session lives.
   */
  private async authorize(actor: Actor, sessionId: string, token: string, { allowExpired = false } = {}): Promise<VoiceStateEntry> {
    const userId = actor.requireUser();
    let claims: { sub?: string; cid?: unknown; sid?: unknown };
    try {
      ({ payload: claims } = await jwtVerify(token, this.tokenKey, {
        audience: TOKEN_AUDIENCE,
        algorithms: ['HS256'],
        ...(allowExpired ? { currentDate: new Date(0) } : {}),
      }));
    } catch {
      throw forbidden('This voice token is not valid (expired, or not one of ours).');
    }
    if (claims.sub !== userId || claims.sid !== sessionId) throw forbidden('This voice token is for another session.');
    const state = await this.registry.get(userId);
    if (!state || state.sessionId !== sessionId) throw notFound('Voice session');
    if (claims.cid !== state.channelId) throw forbidden('This voice token is for another channel.');
    return state;
  }

  /**
   * The participant's signalling stream: the media node's offers, then `CLOSED` when the
   * session ends. Opening it joins the media node; its end leaves voice.
   */
  async signals(actor: Actor, sessionId: string, token: string): Promise<EventStream<DeliveredVoiceSignal>> {
    const userId = actor.requireUser();
    const state = await this.authorize(actor, sessionId, token);
    if (this.local.has(sessionId)) throw conflict('This voice session is already open.', 'sessionId');
    // cut, and so out of voice, when they leave or lose the guild, the channel is deleted or they may no longer view it
    return this.realtime.channelStream<DeliveredVoiceSignal>(actor, state.channelId, async (stream) => {
      stream.onEnd(
        await this.pubsub.listen('voiceSignal', sessionId, (signal) => {
          if (signal.kind === 'FORWARDING') {
            void this.media.setForwarding(sessionId, { muted: signal.muted, deafened: signal.deafened }).catch((err: unknown) => this.onError(err, 'voice: setForwarding failed'));
            return;
          }
          if (signal.kind === 'ANSWER' || signal.kind === 'CANDIDATE') {
            const op = signal.kind === 'ANSWER' ? this.media.answer(sessionId, signal.sdp) : this.media.candidate(sessionId, signal.candidate);
            void op.catch((err: unknown) => this.onError(err, `voice: relayed ${signal.kind.toLowerCase()} refused`));
            return;
          }
          stream.push(signal);
          if (signal.kind === 'CLOSED') stream.finish();
        }),
      );
      this.local.set(sessionId, { userId, stream });
      stream.onEnd(async () => {
        this.local.delete(sessionId);
        await this.endSession(userId, sessionId, 'LEFT');
      });
      let offer: string;
      try {
        offer = await this.media.join(state.channelId, sessionId, userId);
      } catch (err) {
        this.onError(err, 'voice: media join failed');
        const code = (err as { code?: string }).code;
        if (code === 'LIMIT') throw conflict('This voice channel is full on its media node.', 'sessionId');
        // the node has this participant already: the session is open elsewhere
        if (code === 'CONFLICT') throw conflict('This voice session is already open.', 'sessionId');
        throw mediaFailure(err);
      }
      const current = await this.registry.get(userId);
      if (current && current.sessionId === sessionId && (current.selfMute || current.serverMute || current.selfDeaf || current.serverDeaf))
        await this.media.setForwarding(sessionId, forwardingOf(current));
      stream.push({ kind: 'OFFER', sessionId, sdp: offer });
    });
  }

  async answer(actor: Actor, sessionId: string, token: string, sdp: string): Promise<boolean> {
    await this.authorize(actor, sessionId, token, { allowExpired: true });
    if (!sdp.trim()) throw badInput('The answer is empty.', 'sdp');
    await this.relay(sessionId, () => this.media.answer(sessionId, sdp), { kind: 'ANSWER', sessionId, sdp }, 'sdp');
    return true;
  }

  async candidate(actor: Actor, sessionId: string, token: string, candidate: string | null): Promise<boolean> {
    await this.authorize(actor, sessionId, token, { allowExpired: true });
    let parsed: unknown = null;
    if (candidate) {
      try {
        parsed = JSON.parse(candidate);
      } catch {
        parsed = { candidate, sdpMLineIndex: 0 };
      }
    }
    await this.relay(sessionId, () => this.media.candidate(sessionId, parsed), { kind: 'CANDIDATE', sessionId, candidate: parsed }, 'candidate');
    return true;
  }

  /** An op for the participant: here when this instance holds its session (the node's refusal
   *  is the caller's error), else relayed through the PubSub to the instance that does (which
   *  logs a refusal; the browser learns of a broken negotiation from its connection state). */
  private async relay(sessionId: string, op: () => Promise<void>, relayed: VoiceSignalPayload, field: string) {
    if (!this.media.has(sessionId)) {
      if (!this.local.has(sessionId)) {
        await this.pubsub.publish('voiceSignal', sessionId, relayed);
        return;
      }
      throw conflict('This voice session is not connected to its media node yet.', 'sessionId');
    }
    try {
      await op();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'BAD_REQUEST') throw badInput('The media node did not accept this.', field);
      if (code === 'CONFLICT') throw conflict('No offer is waiting for an answer.', field);
      if (code === 'NOT_FOUND') throw notFound('Voice session');
      throw err;
    }
  }

  // ---- internals ----

  private async change(state: VoiceStateEntry, patch: Partial<VoiceStateEntry>): Promise<VoiceStateSnapshot> {
    // A muted participant is not speaking (the node stops reporting them). Said here too, so the
    // UPDATED event cannot carry a stale `speaking: true` that lands after the node's SPEAKING false.
    const muted = (patch.selfMute ?? state.selfMute) || (patch.serverMute ?? state.serverMute);
    const updated = await this.registry.update(state.userId, state.sessionId, muted ? { ...patch, speaking: false } : patch);
    if (!updated) throw notFound('Voice state');
    const before = forwardingOf(state);
    const after = forwardingOf(updated);
    if (before.muted !== after.muted || before.deafened !== after.deafened || this.media.has(updated.sessionId)) {
      await this.pubsub.publish('voiceSignal', updated.sessionId, { kind: 'FORWARDING', sessionId: updated.sessionId, ...after });
    }
    await this.publish('UPDATED', updated);
    return snapshotOf(updated);
  }

  /** Removes the state if it is still this session, tells its stream, and announces it. */
  private async endSession(userId: string, sessionId: string, reason: VoiceCloseReason): Promise<boolean> {
    const removed = await this.registry.remove(userId, sessionId);
    await this.closeSession(sessionId, reason);
    if (removed) await this.publish('LEFT', removed);
    return removed !== null;
  }

  private async endLocal(sessionId: string, reason: VoiceCloseReason) {
    const session = this.local.get(sessionId);
    if (!session) {
      await this.media.leave(sessionId);
      return;
    }
    await this.endSession(session.userId, sessionId, reason).catch((err: unknown) => this.onError(err, 'voice: ending a session failed'));
  }

  /** Tells the session's stream why it ends, then takes it off the media node. */
  private async closeSession(sessionId: string, reason: VoiceCloseReason) {
    await this.pubsub.publish('voiceSignal', sessionId, { kind: 'CLOSED', sessionId, reason });
    await this.media.leave(sessionId);
  }

  private async mediaEvent(e: MediaEvent): Promise<void> {
    const session = this.local.get(e.participantId);
    // a room's events reach every instance with a participant in it: each relays its own
    if (!session) return;
    switch (e.event) {
      case 'offer':
        await this.pubsub.publish('voiceSignal', e.participantId, { kind: 'OFFER', sessionId: e.participantId, sdp: e.sdp });
        return;
      case 'speaking': {
        const updated = await this.registry.update(session.userId, e.participantId, { speaking: e.speaking });
        if (updated) await this.publish('SPEAKING', updated);
        return;
      }
      case 'left':
        await this.endSession(session.userId, e.participantId, e.reason === 'left' ? 'LEFT' : 'TRANSPORT_FAILED');
        return;
      default:
        return;
    }
  }

  private publish(kind: VoiceEventKind, entry: VoiceStateEntry, previousChannelId: string | null = null): Promise<void> {
    const event: VoiceEventPayload = { kind, guildId: entry.guildId, state: snapshotOf(entry), previousChannelId, restricted: entry.restricted };
    return this.pubsub.publish('voiceEvent', entry.guildId, event);
  }
}
