// Roles: who may grant what. A role never grants what its granter lacks, and a member can
// only manage roles (and members) ranked below their own highest role; the owner outranks all.
import type { Db } from '../db/client.js';
import type { PubSub } from '../pubsub/topics.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Access } from './access.js';
import type { Actor, Membership } from './actor.js';
import { badInput, forbidden, notFound } from './errors.js';
import { newId } from './ids.js';
import { type PermissionName, PERMISSION_NAMES, fromNames, has, toNames } from './permissions.js';
import { check, rules } from './validation.js';

export interface CreateRoleInput {
  guildId: string;
  name: string;
  permissions: readonly PermissionName[];
}

export class RoleService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
  ) {}

  /** The guild's roles, highest first; empty for a non-member. */
  async list(actor: Actor, guildId: string) {
    if (!(await actor.membership(guildId))) return [];
    return this.db.role.findMany({ where: { guildId }, orderBy: [{ position: 'desc' }, { id: 'asc' }] });
  }

  async viewerPermissions(actor: Actor, guildId: string): Promise<PermissionName[]> {
    const membership = await actor.membership(guildId);
    return membership ? toNames(membership.permissions) : [];
  }

  /** New roles start just above @everyone, as in Discord; the others move up one. */
  async create(actor: Actor, input: CreateRoleInput) {
    const membership = await this.access.requirePermission(actor, input.guildId, 'MANAGE_ROLES');
    const name = check(rules.roleName, input.name, 'name');
    const unknown = input.permissions.filter((p) => !PERMISSION_NAMES.includes(p));
    if (unknown.length) throw badInput(`Unknown permissions: ${unknown.join(', ')}.`, 'permissions');
    const permissions = fromNames(input.permissions);
    this.assertCanGrant(membership, permissions);
    // The guild's row lock orders concurrent creations: each shifts every role the one
    // before it made, so no two roles share a position (a tie would void the hierarchy).
    return this.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM "Guild" WHERE id = ${input.guildId} FOR UPDATE`;
      await tx.role.updateMany({ where: { guildId: input.guildId, isDefault: false }, data: { position: { increment: 1 } } });
      return tx.role.create({ data: { id: newId(), guildId: input.guildId, name, permissions, position: 1 } });
    });
  }

  /** Idempotent: assigning a role the member has (or that a racing call just gave) is success. */
  async assign(actor: Actor, guildId: string, userId: string, roleId: string) {
    const { member, role } = await this.prepareRoleChange(actor, guildId, userId, roleId);
    try {
      await this.db.memberRole.createMany({ data: [{ memberId: member.id, roleId: role.id }], skipDuplicates: true });
    } catch (err) {
      // the member left (or was removed) between the check and the write
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2003') throw notFound('Member');
      throw err;
    }
    actor.forgetMemberships(guildId);
    await this.accessChanged(guildId, userId);
    return member;
  }

  async unassign(actor: Actor, guildId: string, userId: string, roleId: string) {
    const { member, role } = await this.prepareRoleChange(actor, guildId, userId, roleId);
    await this.db.memberRole.deleteMany({ where: { memberId: member.id, roleId: role.id } });
    actor.forgetMemberships(guildId);
    await this.accessChanged(guildId, userId);
    return member;
  }

  /** A member's roles changed, so may the channels they can view: their open channel streams
   *  are re-checked on every instance, and cut where they lost the channel. */
  private accessChanged(guildId: string, userId: string) {
    return this.pubsub.publish('guildEvent', guildId, { kind: 'CHANNEL_ACCESS_CHANGED', guildId, channelId: null, userId });
  }

  /** Roles of a member, highest first. */
  memberRoles(memberId: string) {
    return this.db.role.findMany({
      where: { members: { some: { memberId } } },
      orderBy: [{ position: 'desc' }, { id: 'asc' }],
    });
  }

  /** A guild member's rank (null when not a member): owner or not, and their highest role position. */
  async rankOf(guildId: string, userId: string): Promise<Rank | null> {
    const member = await this.db.member.findUnique({
      where: { guildId_userId: { guildId, userId } },
      select: { guild: { select: { ownerId: true } }, roles: { select: { role: { select: { position: true } } } } },
    });
    if (!member) return null;
    return {
      userId,
      isOwner: member.guild.ownerId === userId,
      topPosition: Math.max(0, ...member.roles.map((r) => r.role.position)),
    };
  }

  /**
   * Refuses to act on the owner (for anyone but the owner themself) or on a member ranked at
   * or above the actor's highest role; the owner outranks everyone. `self` says whether the
   * actor may act on themself (taking their own lower roles on and off, as in Discord).
   */
  assertOutranks(actor: Membership, actorUserId: string, target: Rank, { self = false } = {}) {
    const isSelf = target.userId === actorUserId;
    if (isSelf && self) return;
    if (target.isOwner) throw forbidden('Nobody can do that to the guild owner.');
    if (actor.isOwner) return;
    if (target.topPosition >= actor.topPosition) {
      throw forbidden('You can only do that to members ranked below your highest role.');
    }
  }

  private assertCanGrant(membership: Membership, permissions: bigint) {
    if (!has(membership.permissions, permissions)) {
      throw forbidden('A role cannot grant permissions you do not have.');
    }
  }

  /**
   * A role change needs MANAGE_ROLES, a role below the actor's highest (which grants nothing
   * they lack), and a member below them too: nobody changes the roles of the owner or of
   * someone ranked at or above them. Not a member here is "Member not found", whether or not
   * the user exists.
   */
  private async prepareRoleChange(actor: Actor, guildId: string, userId: string, roleId: string) {
    const actorUserId = actor.requireUser();
    const membership = await this.access.requirePermission(actor, guildId, 'MANAGE_ROLES');
    const role = await this.db.role.findUnique({ where: { id: roleId } });
    if (!role || role.guildId !== guildId) throw notFound('Role');
    if (role.isDefault) throw badInput('Everyone has @everyone; it cannot be assigned or removed.', 'roleId');
    const [member, rank] = await Promise.all([
      this.db.member.findUnique({ where: { guildId_userId: { guildId, userId } } }),
      this.rankOf(guildId, userId),
    ]);
    if (!member || !rank) throw notFound('Member');
    if (!membership.isOwner && role.position >= membership.topPosition) {
      throw forbidden('You can only manage roles ranked below your highest role.');
    }
    this.assertCanGrant(membership, role.permissions);
    this.assertOutranks(membership, actorUserId, rank, { self: true });
    return { member, role };
  }
}

export interface Rank {
  userId: string;
  isOwner: boolean;
  /** highest role position (0 with only @everyone) */
  topPosition: number;
}
