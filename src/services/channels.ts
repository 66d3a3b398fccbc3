import type { Db } from '../db/client.js';
import type { PubSub } from '../pubsub/topics.js';
import { type Access, channelPermissionsOf } from './access.js';
import type { Actor } from './actor.js';
import { badInput } from './errors.js';
import { newId } from './ids.js';
import { type PermissionName, Permission, has, toNames } from './permissions.js';
import { channelSnapshot } from './snapshots.js';
import { check, checkOptional, rules } from './validation.js';

export type ChannelKind = 'TEXT' | 'VOICE' | 'DM' | 'GROUP_DM';

/** Channels that carry messages: text channels, DMs and group chats. */
export const isTextual = (channel: { type: ChannelKind }): boolean => channel.type !== 'VOICE';

export interface CreateChannelInput {
  guildId: string;
  name: string;
  type?: ChannelKind | null;
  topic?: string | null;
  /** VOICE only: 0–99, 0 = no limit */
  userLimit?: number | null;
  /** VOICE only: 8000–384000 bits/s */
  bitrate?: number | null;
}

export interface UpdateChannelInput {
  name?: string | null;
  topic?: string | null;
  position?: number | null;
  userLimit?: number | null;
  bitrate?: number | null;
}

export const VOICE_USER_LIMIT_MAX = 99;
export const VOICE_BITRATE_MIN = 8000;
export const VOICE_BITRATE_MAX = 384_000;

/** The voice settings of a create or update, checked; a TEXT channel takes none. */
function voiceSettings(type: ChannelKind, input: { userLimit?: number | null; bitrate?: number | null }) {
  const data: { userLimit?: number; bitrate?: number } = {};
  if (input.userLimit != null) {
    if (type !== 'VOICE') throw badInput('Only a voice channel has a user limit.', 'userLimit');
    if (!Number.isInteger(input.userLimit) || input.userLimit < 0 || input.userLimit > VOICE_USER_LIMIT_MAX)
      throw badInput(`The user limit is a whole number from 0 (no limit) to ${VOICE_USER_LIMIT_MAX}.`, 'userLimit');
    data.userLimit = input.userLimit;
  }
  if (input.bitrate != null) {
    if (type !== 'VOICE') throw badInput('Only a voice channel has a bitrate.', 'bitrate');
    if (!Number.isInteger(input.bitrate) || input.bitrate < VOICE_BITRATE_MIN || input.bitrate > VOICE_BITRATE_MAX)
      throw badInput(`The bitrate is a whole number of bits per second from ${VOICE_BITRATE_MIN} to ${VOICE_BITRATE_MAX}.`, 'bitrate');
    data.bitrate = input.bitrate;
  }
  return data;
}

export class ChannelService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
  ) {}

  get(actor: Actor, channelId: string) {
    return this.access.requireChannel(actor, channelId);
  }

  /** The guild's channels the viewer may view, by position; empty for a viewer who is not a member. */
  async listForGuild(actor: Actor, guildId: string) {
    const membership = await actor.membership(guildId);
    if (!membership) return [];
    const userId = actor.requireUser();
    const channels = await this.db.channel.findMany({
      where: { guildId },
      orderBy: [{ position: 'asc' }, { id: 'asc' }],
      include: {
        overwrites: {
          where: { OR: [{ targetType: 'ROLE' }, { targetType: 'MEMBER', targetId: userId }] },
          select: { targetType: true, targetId: true, allow: true, deny: true },
        },
      },
    });
    return channels.flatMap(({ overwrites, ...channel }) => {
      const permissions = channelPermissionsOf(membership, userId, overwrites);
      actor.primeChannelPermissions(channel.id, permissions);
      return has(permissions, Permission.VIEW_CHANNEL) ? [channel] : [];
    });
  }

  /** What the viewer may do in the channel (empty when they may not view it). */
  async viewerPermissions(actor: Actor, channelId: string): Promise<PermissionName[]> {
    if (!actor.isSignedIn) return [];
    return toNames(await this.access.channelPermissions(actor, channelId));
  }

  async create(actor: Actor, input: CreateChannelInput) {
    await this.access.requirePermission(actor, input.guildId, 'MANAGE_CHANNELS');
    if (input.type && input.type !== 'TEXT' && input.type !== 'VOICE') {
      throw badInput('A guild channel is TEXT or VOICE; use openDirectChannel or createGroupChat for the others.', 'type');
    }
    const name = check(rules.channelName, input.name, 'name');
    const topic = checkOptional(rules.topic, input.topic, 'topic') ?? null;
    const settings = voiceSettings(input.type ?? 'TEXT', input);
    const last = await this.db.channel.findFirst({
      where: { guildId: input.guildId },
      orderBy: { position: 'desc' },
      select: { position: true },
    });
    const channel = await this.db.channel.create({
      data: { id: newId(), guildId: input.guildId, name, topic, type: input.type ?? 'TEXT', position: (last?.position ?? -1) + 1, ...settings },
    });
    await this.pubsub.publish('guildEvent', input.guildId, {
      kind: 'CHANNEL_CREATED',
      guildId: input.guildId,
      channel: channelSnapshot(channel),
    });
    return channel;
  }

  /** Renames, re-topics or moves a channel; moving renumbers the guild's channels 0..n-1. */
  async update(actor: Actor, channelId: string, input: UpdateChannelInput) {
    const channel = await this.access.requireGuildChannel(actor, channelId, 'id');
    await this.access.requireChannelPermission(actor, channelId, 'MANAGE_CHANNELS');
    const data = {
      ...(input.name != null ? { name: check(rules.channelName, input.name, 'name') } : {}),
      ...(input.topic !== undefined ? { topic: checkOptional(rules.topic, input.topic, 'topic') || null } : {}),
      ...voiceSettings(channel.type, input),
    };
    if (input.position != null) {
      if (!Number.isInteger(input.position) || input.position < 0) {
        throw badInput('Position must be a whole number from 0.', 'position');
      }
      const siblings = await this.db.channel.findMany({
        where: { guildId: channel.guildId, id: { not: channelId } },
        orderBy: [{ position: 'asc' }, { id: 'asc' }],
        select: { id: true },
      });
      const order = siblings.map((c) => c.id);
      order.splice(Math.min(input.position, order.length), 0, channelId);
      await this.db.$transaction(
        order.map((id, position) => this.db.channel.update({ where: { id }, data: { position } })),
      );
    }
    const updated = await this.db.channel.update({ where: { id: channelId }, data });
    const restricted = (await this.db.permissionOverwrite.count({ where: { channelId } })) > 0;
    await this.pubsub.publish('guildEvent', channel.guildId, {
      kind: 'CHANNEL_UPDATED',
      guildId: channel.guildId,
      channel: channelSnapshot(updated),
      restricted,
    });
    return updated;
  }

  async delete(actor: Actor, channelId: string): Promise<string> {
    const channel = await this.access.requireGuildChannel(actor, channelId, 'id');
    await this.access.requireChannelPermission(actor, channelId, 'MANAGE_CHANNELS');
    await this.db.channel.delete({ where: { id: channelId } });
    await this.pubsub.publish('guildEvent', channel.guildId, { kind: 'CHANNEL_DELETED', guildId: channel.guildId, channelId });
    return channelId;
  }
}
