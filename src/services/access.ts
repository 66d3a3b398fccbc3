// The authorization questions every service asks. A resource the actor may not see is
// NOT_FOUND (never a hint that it exists); one it sees but may not change is FORBIDDEN.
import type { Db } from '../db/client.js';
import type { Channel } from '../generated/prisma/client.js';
import { type Actor, type Membership, membershipOf } from './actor.js';
import { json } from './messageSql.js';
import { forbidden, notFound } from './errors.js';
import { type PermissionName, Permission, has } from './permissions.js';

interface ChannelAccessRow extends Channel {
  ownerId: string;
  memberId: string | null;
  everyone: bigint | number | string | null;
  roles: unknown;
}


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
   * A channel whose guild the actor belongs to, or NOT_FOUND. Channel, membership and the
   * member's permissions come in one round trip, and the membership is kept for the rest of
   * the operation (sending checks SEND_MESSAGES next).
   */
  async requireChannel(actor: Actor, channelId: string): Promise<Channel> {
    const userId = actor.requireUser();
    const [row] = await this.db.$queryRaw<ChannelAccessRow[]>`
      SELECT c.id, c."guildId", c.name, c.type::text AS type, c.topic, c.position, c."createdAt",
             g."ownerId", m.id AS "memberId",
             (SELECT r.permissions FROM "Role" r WHERE r."guildId" = c."guildId" AND r."isDefault" LIMIT 1) AS everyone,
             (SELECT coalesce(json_agg(json_build_object('permissions', r.permissions::text, 'position', r.position)), '[]')
                FROM "MemberRole" mr JOIN "Role" r ON r.id = mr."roleId" WHERE mr."memberId" = m.id) AS roles
      FROM "Channel" c
      JOIN "Guild" g ON g.id = c."guildId"
      LEFT JOIN "Member" m ON m."guildId" = c."guildId" AND m."userId" = ${userId}
      WHERE c.id = ${channelId}`;
    if (!row) throw notFound('Channel');
    const membership = row.memberId
      ? membershipOf({
          memberId: row.memberId,
          guildId: row.guildId,
          isOwner: row.ownerId === userId,
          everyone: BigInt(row.everyone ?? 0),
          roles: json<{ permissions: string; position: number }[]>(row.roles).map((r) => ({
            permissions: BigInt(r.permissions),
            position: r.position,
          })),
        })
      : null;
    actor.primeMembership(row.guildId, membership);
    if (!membership) throw notFound('Channel');
    const { ownerId: _owner, memberId: _member, everyone: _everyone, roles: _roles, ...channel } = row;
    return channel;
  }

  async canSeeGuild(actor: Actor, guild: { id: string; isPublic: boolean }): Promise<boolean> {
    return guild.isPublic || (await actor.membership(guild.id)) !== null;
  }
}
