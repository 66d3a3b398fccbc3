// Private channels: permission overwrites of one channel for a role or a member. Managing them
// needs MANAGE_ROLES in the channel (Discord's "Manage Permissions"), and respects the role
// hierarchy as role management does: only roles below the actor's highest (and @everyone),
// only members ranked below them (or themself), and only permissions the actor has there.
import type { Db } from '../db/client.js';
import type { PubSub } from '../pubsub/topics.js';
import type { Access, GuildChannel } from './access.js';
import type { Actor } from './actor.js';
import { badInput, forbidden, notFound } from './errors.js';
import {
  type PermissionName,
  GUILD_ONLY_PERMISSIONS,
  PERMISSION_NAMES,
  Permission,
  fromNames,
  has,
  toNames,
} from './permissions.js';
import type { RoleService } from './roles.js';
import { channelSnapshot } from './snapshots.js';

export type OverwriteTarget = 'ROLE' | 'MEMBER';

export interface OverwriteInput {
  channelId: string;
  targetType: OverwriteTarget;
  /** a role id (ROLE) or a user id (MEMBER) */
  targetId: string;
  allow: readonly PermissionName[];
  deny: readonly PermissionName[];
}

export class OverwriteService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
    private readonly roles: RoleService,
  ) {}

  /** The channel's overwrites, for those who may manage them; empty for anyone else. */
  async list(actor: Actor, channelId: string) {
    const permissions = await this.access.channelPermissions(actor, channelId);
    if (!has(permissions, Permission.MANAGE_ROLES)) return [];
    return this.db.permissionOverwrite.findMany({
      where: { channelId },
      orderBy: [{ targetType: 'asc' }, { targetId: 'asc' }],
    });
  }

  /** Creates or replaces the overwrite of one role or member in the channel. */
  async set(actor: Actor, input: OverwriteInput) {
    const { channel } = await this.authorize(actor, input.channelId, input.targetType, input.targetId, [...input.allow, ...input.deny]);
    const allow = this.bits(input.allow, 'allow');
    const deny = this.bits(input.deny, 'deny');
    if (allow & deny) throw badInput(`A permission cannot be both allowed and denied: ${toNames(allow & deny).join(', ')}.`, 'deny');
    const key = { channelId: channel.id, targetType: input.targetType, targetId: input.targetId };
    const overwrite = await this.db.permissionOverwrite.upsert({
      where: { channelId_targetType_targetId: key },
      create: { ...key, allow, deny },
      update: { allow, deny },
    });
    await this.announce(channel, input.targetType, input.targetId);
    return overwrite;
  }

  /** Removes the overwrite (idempotent: removing one that is not there is success). */
  async delete(actor: Actor, channelId: string, targetType: OverwriteTarget, targetId: string) {
    const { channel } = await this.authorize(actor, channelId, targetType, targetId, []);
    const existing = await this.db.permissionOverwrite.findUnique({
      where: { channelId_targetType_targetId: { channelId, targetType, targetId } },
    });
    // what the removal would grant back, the actor must hold, as for setting it
    if (existing) this.assertHolds(await this.access.channelPermissions(actor, channelId), existing.allow | existing.deny);
    const { count } = await this.db.permissionOverwrite.deleteMany({ where: { channelId, targetType, targetId } });
    if (count > 0) await this.announce(channel, targetType, targetId);
    return channel;
  }

  /**
   * The channel (visible to the actor, who has MANAGE_ROLES in it), and a target the actor
   * may act on: a role of the guild below their highest (or @everyone), or a member ranked
   * below them (or themself). Permissions named must be the actor's in the channel.
   */
  private async authorize(actor: Actor, channelId: string, targetType: OverwriteTarget, targetId: string, names: PermissionName[]) {
    const actorUserId = actor.requireUser();
    const channel = await this.access.requireGuildChannel(actor, channelId);
    const permissions = await this.access.requireChannelPermission(actor, channelId, 'MANAGE_ROLES');
    const membership = await this.access.requireMember(actor, channel.guildId, 'Channel');
    if (targetType === 'ROLE') {
      const role = await this.db.role.findUnique({ where: { id: targetId } });
      if (!role || role.guildId !== channel.guildId) throw notFound('Role');
      if (!role.isDefault && !membership.isOwner && role.position >= membership.topPosition) {
        throw forbidden('You can only manage roles ranked below your highest role.');
      }
    } else {
      const rank = await this.roles.rankOf(channel.guildId, targetId);
      if (!rank) throw notFound('Member');
      this.roles.assertOutranks(membership, actorUserId, rank, { self: true });
    }
    this.assertHolds(permissions, fromNames(names.filter((n) => PERMISSION_NAMES.includes(n))));
    return { channel };
  }

  private assertHolds(permissions: bigint, bits: bigint) {
    if (!has(permissions, bits)) throw forbidden('An overwrite cannot allow or deny permissions you do not have in this channel.');
  }

  private bits(names: readonly PermissionName[], field: string): bigint {
    const unknown = names.filter((n) => !PERMISSION_NAMES.includes(n));
    if (unknown.length) throw badInput(`Unknown permissions: ${unknown.join(', ')}.`, field);
    const bits = fromNames(names);
    if (bits & GUILD_ONLY_PERMISSIONS) {
      throw badInput(`These apply to the whole guild, not one channel: ${toNames(bits & GUILD_ONLY_PERMISSIONS).join(', ')}.`, field);
    }
    return bits;
  }

  /**
   * Who may view the channel may have changed: every instance re-checks the open streams of
   * the channel (of the one member, for a member's overwrite) and cuts those who lost it.
   * Members who may view it see the channel updated.
   */
  private async announce(channel: GuildChannel, targetType: OverwriteTarget, targetId: string) {
    const guildId = channel.guildId;
    await this.pubsub.publish('guildEvent', guildId, {
      kind: 'CHANNEL_ACCESS_CHANGED',
      guildId,
      channelId: channel.id,
      userId: targetType === 'MEMBER' ? targetId : null,
    });
    await this.pubsub.publish('guildEvent', guildId, {
      kind: 'CHANNEL_UPDATED',
      guildId,
      channel: channelSnapshot(channel),
      restricted: true,
    });
  }
}
