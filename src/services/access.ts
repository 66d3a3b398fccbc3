// The authorization questions every service asks. A resource the actor may not see is
// NOT_FOUND (never a hint that it exists); one it sees but may not change is FORBIDDEN.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Channel } from '../generated/prisma/client.js';
import { type Actor, type Membership, membershipOf } from './actor.js';
import { json } from './messageSql.js';
import { badInput, forbidden, notFound } from './errors.js';
import {
  type ChannelOverwrites,
  type PermissionName,
  DIRECT_CHANNEL_PERMISSIONS,
  Permission,
  computeChannelPermissions,
  has,
} from './permissions.js';

interface ChannelAccessRow extends Channel {
  guildOwnerId: string | null;
  memberId: string | null;
  isRecipient: boolean;
  everyone: unknown;
  roles: unknown;
  overwrites: unknown;
}

/** A channel of a guild (not a DM or group chat). */
export type GuildChannel = Channel & { guildId: string };

export const isGuildChannel = (channel: Channel): channel is GuildChannel => channel.guildId !== null;

/** An overwrite as stored; which of a channel's overwrites concern a member is `overwritesOf`. */
export interface StoredOverwrite {
  targetType: 'ROLE' | 'MEMBER';
  targetId: string;
  allow: bigint;
  deny: bigint;
}

/** Groups a channel's overwrites as Discord's resolution reads them for one member. */
export function overwritesOf(membership: Membership, userId: string, overwrites: readonly StoredOverwrite[]): ChannelOverwrites {
  const roles = new Set(membership.roleIds);
  const bits = (o: StoredOverwrite) => ({ allow: o.allow, deny: o.deny });
  const everyone = overwrites.find((o) => o.targetType === 'ROLE' && o.targetId === membership.everyoneRoleId);
  const member = overwrites.find((o) => o.targetType === 'MEMBER' && o.targetId === userId);
  return {
    everyone: everyone ? bits(everyone) : null,
    roles: overwrites.filter((o) => o.targetType === 'ROLE' && roles.has(o.targetId)).map(bits),
    member: member ? bits(member) : null,
  };
}

/** A member's permissions in a channel with these overwrites. */
export const channelPermissionsOf = (membership: Membership, userId: string, overwrites: readonly StoredOverwrite[]): bigint =>
  computeChannelPermissions(membership.permissions, overwritesOf(membership, userId, overwrites));

/**
 * The ids of the channels whose messages the user may read, as a subquery: guild channels
 * they may view and the direct and group chats they are in. The one predicate for "channels
 * this user may see" in SQL (`"channelId" IN (${readableChannelIds(userId)})`); it is the
 * database function chat_readable_channels (migration *_private_channels).
 */
export const readableChannelIds = (userId: string): Prisma.Sql => Prisma.sql`SELECT "chat_readable_channels"(${userId})`;

export class Access {
  constructor(private readonly db: Db) {}

  /** The actor's membership of the guild, or NOT_FOUND (the guild is invisible to them). */
  async requireMember(actor: Actor, guildId: string, what = 'Guild'): Promise<Membership> {
    actor.requireUser();
    const membership = await actor.membership(guildId);
    if (!membership) throw notFound(what);
    return membership;
  }

  /** Membership with a permission: NOT_FOUND for non-members, FORBIDDEN without the permission. */
  async requirePermission(actor: Actor, guildId: string, permission: PermissionName, what = 'Guild'): Promise<Membership> {
    const membership = await this.requireMember(actor, guildId, what);
    if (!has(membership.permissions, Permission[permission])) {
      throw forbidden(`You need the ${permission} permission in this guild.`);
    }
    return membership;
  }

  /**
   * A channel the actor may view, or NOT_FOUND. Channel, membership, the member's roles and
   * the channel's overwrites come in one round trip; the membership and the actor's
   * permissions in the channel are kept for the rest of the operation (sending checks
   * SEND_MESSAGES next).
   */
  async requireChannel(actor: Actor, channelId: string, what = 'Channel'): Promise<Channel> {
    const userId = actor.requireUser();
    const [row] = await this.db.$queryRaw<ChannelAccessRow[]>`
      SELECT c.id, c."guildId", c.name, c.type::text AS type, c.topic, c.position, c."createdAt", c."ownerId", c."dmKey", c."userLimit", c.bitrate,
             g."ownerId" AS "guildOwnerId", m.id AS "memberId",
             (c."guildId" IS NULL AND EXISTS (SELECT 1 FROM "ChannelRecipient" cr WHERE cr."channelId" = c.id AND cr."userId" = ${userId})) AS "isRecipient",
             (SELECT json_build_object('id', r.id, 'permissions', r.permissions::text)
                FROM "Role" r WHERE r."guildId" = c."guildId" AND r."isDefault" LIMIT 1) AS everyone,
             (SELECT coalesce(json_agg(json_build_object('id', r.id, 'permissions', r.permissions::text, 'position', r.position)), '[]')
                FROM "MemberRole" mr JOIN "Role" r ON r.id = mr."roleId" WHERE mr."memberId" = m.id) AS roles,
             (SELECT coalesce(json_agg(json_build_object('targetType', o."targetType", 'targetId', o."targetId",
                                                         'allow', o.allow::text, 'deny', o.deny::text)), '[]')
                FROM "PermissionOverwrite" o
                WHERE o."channelId" = c.id AND m.id IS NOT NULL AND (o."targetType" = 'ROLE' OR o."targetId" = ${userId})) AS overwrites
      FROM "Channel" c
      LEFT JOIN "Guild" g ON g.id = c."guildId"
      LEFT JOIN "Member" m ON m."guildId" = c."guildId" AND m."userId" = ${userId}
      WHERE c.id = ${channelId}`;
    if (!row) throw notFound(what);
    const channel = channelOf(row);
    if (row.guildId === null) {
      // a DM or group chat: its recipients, and nobody else
      if (!row.isRecipient) throw notFound(what);
      actor.primeChannelPermissions(channelId, DIRECT_CHANNEL_PERMISSIONS);
      return channel;
    }
    const everyone = json<{ id: string; permissions: string } | null>(row.everyone);
    const membership = row.memberId
      ? membershipOf({
          memberId: row.memberId,
          guildId: row.guildId,
          isOwner: row.guildOwnerId === userId,
          everyone: BigInt(everyone?.permissions ?? 0),
          everyoneRoleId: everyone?.id ?? null,
          roles: json<{ id: string; permissions: string; position: number }[]>(row.roles).map((r) => ({
            id: r.id,
            permissions: BigInt(r.permissions),
            position: r.position,
          })),
        })
      : null;
    actor.primeMembership(row.guildId, membership);
    if (!membership) throw notFound(what);
    const permissions = channelPermissionsOf(membership, userId, parseOverwrites(row.overwrites));
    actor.primeChannelPermissions(channelId, permissions);
    if (!has(permissions, Permission.VIEW_CHANNEL)) throw notFound(what);
    return channel;
  }

  /** A guild's channel the actor may view; a DM or group chat they are in is BAD_USER_INPUT
   *  (guild-only operations: managing channels and overwrites). */
  async requireGuildChannel(actor: Actor, channelId: string, field = 'channelId'): Promise<GuildChannel> {
    const channel = await this.requireChannel(actor, channelId);
    if (!isGuildChannel(channel)) throw badInput('This is a direct message or group chat, not a guild channel.', field);
    return channel;
  }

  /** The actor's permissions in a channel they may view (NOT_FOUND otherwise). */
  async channelPermissions(actor: Actor, channelId: string, what = 'Channel'): Promise<bigint> {
    const known = actor.knownChannelPermissions(channelId);
    if (known === undefined) await this.requireChannel(actor, channelId, what);
    const permissions = actor.knownChannelPermissions(channelId) ?? 0n;
    if (!has(permissions, Permission.VIEW_CHANNEL)) throw notFound(what);
    return permissions;
  }

  /** NOT_FOUND when the actor may not view the channel, FORBIDDEN without the permission in it. */
  async requireChannelPermission(actor: Actor, channelId: string, permission: PermissionName, what = 'Channel'): Promise<bigint> {
    const permissions = await this.channelPermissions(actor, channelId, what);
    if (!has(permissions, Permission[permission])) {
      throw forbidden(`You need the ${permission} permission in this channel.`);
    }
    return permissions;
  }

  /** Of these users, those who may not view the channel (now): one statement for any number. */
  async usersWhoCannotView(channelId: string, userIds: readonly string[]): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT candidate.id FROM unnest(${[...userIds]}::text[]) AS candidate(id)
      WHERE "chat_channel_permissions"(${channelId}, candidate.id) & ${Permission.VIEW_CHANNEL} = 0`;
    return rows.map((r) => r.id);
  }

  async canSeeGuild(actor: Actor, guild: { id: string; isPublic: boolean }): Promise<boolean> {
    return guild.isPublic || (await actor.membership(guild.id)) !== null;
  }
}

const channelOf = (row: ChannelAccessRow): Channel => ({
  id: row.id,
  guildId: row.guildId,
  name: row.name,
  type: row.type,
  topic: row.topic,
  position: row.position,
  createdAt: row.createdAt,
  ownerId: row.ownerId,
  dmKey: row.dmKey,
  userLimit: row.userLimit,
  bitrate: row.bitrate,
});

const parseOverwrites = (value: unknown): StoredOverwrite[] =>
  json<{ targetType: 'ROLE' | 'MEMBER'; targetId: string; allow: string; deny: string }[]>(value).map((o) => ({
    targetType: o.targetType,
    targetId: o.targetId,
    allow: BigInt(o.allow),
    deny: BigInt(o.deny),
  }));
