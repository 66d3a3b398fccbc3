import type { Db } from '../db/client.js';
import type { PubSub } from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { newId } from './ids.js';
import { check, checkOptional, rules } from './validation.js';

export type ChannelKind = 'TEXT' | 'VOICE';

export interface CreateChannelInput {
  guildId: string;
  name: string;
  type?: ChannelKind | null;
  topic?: string | null;
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

  /** The guild's channels by position; empty for a viewer who is not a member. */
  async listForGuild(actor: Actor, guildId: string) {
    if (!(await actor.membership(guildId))) return [];
    return this.db.channel.findMany({ where: { guildId }, orderBy: [{ position: 'asc' }, { id: 'asc' }] });
  }

  async create(actor: Actor, input: CreateChannelInput) {
    await this.access.requirePermission(actor, input.guildId, 'MANAGE_CHANNELS');
    const name = check(rules.channelName, input.name, 'name');
    const topic = checkOptional(rules.topic, input.topic, 'topic') ?? null;
    const last = await this.db.channel.findFirst({
      where: { guildId: input.guildId },
      orderBy: { position: 'desc' },
      select: { position: true },
    });
    const channel = await this.db.channel.create({
      data: { id: newId(), guildId: input.guildId, name, topic, type: input.type ?? 'TEXT', position: (last?.position ?? -1) + 1 },
    });
    await this.pubsub.publish('guildEvent', channel.guildId, { kind: 'CHANNEL_CREATED', guildId: channel.guildId, channelId: channel.id });
    return channel;
  }

  async delete(actor: Actor, channelId: string): Promise<string> {
    const channel = await this.access.requireChannel(actor, channelId);
    await this.access.requirePermission(actor, channel.guildId, 'MANAGE_CHANNELS');
    await this.db.channel.delete({ where: { id: channelId } });
    await this.pubsub.publish('guildEvent', channel.guildId, { kind: 'CHANNEL_DELETED', guildId: channel.guildId, channelId });
    return channelId;
  }
}
