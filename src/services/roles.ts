// Roles: who may grant what. A role never grants what its granter lacks, and a member can
// only manage roles (and members) ranked below their own highest role; the owner outranks all.
import type { Db } from '../db/client.js';
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
    const [, role] = await this.db.$transaction([
      this.db.role.updateMany({ where: { guildId: input.guildId, isDefault: false }, data: { position: { increment: 1 } } }),
      this.db.role.create({ data: { id: newId(), guildId: input.guildId, name, permissions, position: 1 } }),
    ]);
    return role;
  }

  async assign(actor: Actor, guildId: string, userId: string, roleId: string) {
    const { member, role } = await this.prepareRoleChange(actor, guildId, userId, roleId);
    await this.db.memberRole.upsert({
      where: { memberId_roleId: { memberId: member.id, roleId: role.id } },
      create: { memberId: member.id, roleId: role.id },
      update: {},
    });
    actor.forgetMemberships(guildId);
    return member;
  }

  async unassign(actor: Actor, guildId: string, userId: string, roleId: string) {
    const { member, role } = await this.prepareRoleChange(actor, guildId, userId, roleId);
    await this.db.memberRole.deleteMany({ where: { memberId: member.id, roleId: role.id } });
    actor.forgetMemberships(guildId);
    return member;
  }

  /** Roles of a member, highest first. */
  memberRoles(memberId: string) {
    return this.db.role.findMany({
      where: { members: { some: { memberId } } },
      orderBy: [{ position: 'desc' }, { id: 'asc' }],
    });
  }

  /** The highest role position of a guild member (0 with only @everyone). */
  async topPositionOf(guildId: string, userId: string): Promise<number> {
    const top = await this.db.role.findFirst({
      where: { guildId, members: { some: { member: { userId } } } },
      orderBy: { position: 'desc' },
      select: { position: true },
    });
    return top?.position ?? 0;
  }

  /** Refuses to act on a member ranked at or above the actor (the owner may act on anyone but themself). */
  async assertOutranks(actor: Membership, guildId: string, target: { userId: string; isOwner: boolean }) {
    if (target.isOwner) throw forbidden('Nobody can do that to the guild owner.');
    if (actor.isOwner) return;
    if ((await this.topPositionOf(guildId, target.userId)) >= actor.topPosition) {
      throw forbidden('You can only do that to members ranked below your highest role.');
    }
  }

  private assertCanGrant(membership: Membership, permissions: bigint) {
    if (!has(membership.permissions, permissions)) {
      throw forbidden('A role cannot grant permissions you do not have.');
    }
  }

  private async prepareRoleChange(actor: Actor, guildId: string, userId: string, roleId: string) {
    const membership = await this.access.requirePermission(actor, guildId, 'MANAGE_ROLES');
    const role = await this.db.role.findUnique({ where: { id: roleId } });
    if (!role || role.guildId !== guildId) throw notFound('Role');
    if (role.isDefault) throw badInput('Everyone has @everyone; it cannot be assigned or removed.', 'roleId');
    const member = await this.db.member.findUnique({ where: { guildId_userId: { guildId, userId } } });
    if (!member) throw notFound('Member');
    if (!membership.isOwner && role.position >= membership.topPosition) {
      throw forbidden('You can only manage roles ranked below your highest role.');
    }
    this.assertCanGrant(membership, role.permissions);
    return { member, role };
  }
}
