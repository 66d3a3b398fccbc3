// Guilds, membership and invites.
import type { Db } from '../db/client.js';
import type { MemberLeftReason, PubSub } from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput, forbidden, notFound } from './errors.js';
import { inviteCode, newId } from './ids.js';
import { type PageArgs, finishPage, planPage } from './pagination.js';
import { DEFAULT_EVERYONE_PERMISSIONS } from './permissions.js';
import { guildSnapshot, loadUserSnapshot } from './snapshots.js';
import { check, checkOptional, rules } from './validation.js';

export interface CreateGuildInput {
  name: string;
  description?: string | null;
  isPublic?: boolean | null;
}

export interface UpdateGuildInput {
  name?: string | null;
  description?: string | null;
  isPublic?: boolean | null;
}

const MAX_INVITE_USES = 10_000;
const MAX_INVITE_AGE_SECONDS = 30 * 24 * 3600;

export class GuildService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
  ) {}

  /** A guild the actor can see: one they belong to, or a public one. */
  async get(actor: Actor, guildId: string) {
    actor.requireUser();
    const guild = await this.db.guild.findUnique({ where: { id: guildId } });
    if (!guild || !(await this.access.canSeeGuild(actor, guild))) throw notFound('Guild');
    return guild;
  }

  /** Joined guilds and public ones, ordered by id. */
  async list(actor: Actor, page: PageArgs) {
    const userId = actor.requireUser();
    const where = { OR: [{ isPublic: true }, { members: { some: { userId } } }] };
    const plan = planPage(page, 'asc');
    const rows = await this.db.guild.findMany({
      where: { ...where, id: plan.cursorFilter },
      orderBy: { id: plan.direction },
      take: plan.take,
    });
    const result = await finishPage(rows, plan, 'asc', Boolean(page.after ?? page.before), async (id) =>
      Boolean(await this.db.guild.findFirst({ where: { ...where, id }, select: { id: true } })),
    );
    return { ...result, totalCount: () => this.db.guild.count({ where }) };
  }

  async create(actor: Actor, input: CreateGuildInput) {
    const ownerId = actor.requireUser();
    const name = check(rules.guildName, input.name, 'name');
    const description = checkOptional(rules.description, input.description, 'description') ?? null;
    const guildId = newId();
    const [guild] = await this.db.$transaction([
      this.db.guild.create({
        data: { id: guildId, name, description, isPublic: input.isPublic ?? false, ownerId },
      }),
      this.db.role.create({
        data: { id: newId(), guildId, name: '@everyone', position: 0, permissions: DEFAULT_EVERYONE_PERMISSIONS, isDefault: true },
      }),
      this.db.member.create({ data: { id: newId(), guildId, userId: ownerId } }),
      this.db.channel.create({ data: { id: newId(), guildId, name: 'general', type: 'TEXT', position: 0 } }),
    ]);
    actor.forgetMemberships(guildId);
    return guild;
  }

  async delete(actor: Actor, guildId: string): Promise<string> {
    const membership = await this.access.requireMember(actor, guildId);
    if (!membership.isOwner) throw forbidden('Only the owner can delete a guild.');
    const memberIds = (await this.db.member.findMany({ where: { guildId }, select: { userId: true } })).map((m) => m.userId);
    await this.db.guild.delete({ where: { id: guildId } });
    actor.forgetMemberships(guildId);
    await this.pubsub.publish('guildEvent', guildId, { kind: 'GUILD_DELETED', guildId });
    await Promise.all(memberIds.map((userId) => this.pubsub.publish('userEvent', userId, { kind: 'ACCESS_REVOKED', guildId })));
    return guildId;
  }

  async update(actor: Actor, guildId: string, input: UpdateGuildInput) {
    await this.access.requirePermission(actor, guildId, 'MANAGE_GUILD');
    const data = {
      ...(input.name != null ? { name: check(rules.guildName, input.name, 'name') } : {}),
      ...(input.description !== undefined
        ? { description: checkOptional(rules.description, input.description, 'description') || null }
        : {}),
      ...(input.isPublic != null ? { isPublic: input.isPublic } : {}),
    };
    const guild = await this.db.guild.update({ where: { id: guildId }, data });
    await this.pubsub.publish('guildEvent', guildId, { kind: 'GUILD_UPDATED', guildId, guild: guildSnapshot(guild) });
    return guild;
  }

  /** The owner hands the guild to another member and stays a member. */
  async transferOwnership(actor: Actor, guildId: string, userId: string) {
    const membership = await this.access.requireMember(actor, guildId);
    if (!membership.isOwner) throw forbidden('Only the owner can transfer ownership.');
    const target = await this.db.member.findUnique({ where: { guildId_userId: { guildId, userId } }, select: { id: true } });
    if (!target) throw notFound('Member');
    const guild = await this.db.guild.update({ where: { id: guildId }, data: { ownerId: userId } });
    actor.forgetMemberships(guildId);
    await this.pubsub.publish('guildEvent', guildId, { kind: 'GUILD_UPDATED', guildId, guild: guildSnapshot(guild) });
    return guild;
  }

  async joinPublic(actor: Actor, guildId: string) {
    const userId = actor.requireUser();
    const guild = await this.db.guild.findUnique({ where: { id: guildId } });
    if (!guild || !(await this.access.canSeeGuild(actor, guild))) throw notFound('Guild');
    if (await actor.membership(guildId)) return guild;
    if (!guild.isPublic) throw notFound('Guild');
    await this.assertNotBanned(guildId, userId);
    return this.addMember(actor, guildId, userId);
  }

  /** A manager adds someone directly (a chat whose owner picks its members). */
  async addMemberDirectly(actor: Actor, guildId: string, userId: string) {
    await this.access.requirePermission(actor, guildId, 'MANAGE_GUILD');
    const user = await this.db.user.findUnique({ where: { id: userId }, select: { id: true } });
    if (!user) throw notFound('User');
    await this.assertNotBanned(guildId, userId, 'That user is banned from this guild; unban them first.');
    await this.addMember(actor, guildId, userId);
    return this.db.member.findUniqueOrThrow({ where: { guildId_userId: { guildId, userId } } });
  }

  async createInvite(actor: Actor, guildId: string, maxUses?: number | null, expiresInSeconds?: number | null) {
    const inviterId = actor.requireUser();
    await this.access.requirePermission(actor, guildId, 'CREATE_INVITE');
    if (maxUses != null && (maxUses < 1 || maxUses > MAX_INVITE_USES)) {
      throw badInput(`maxUses must be between 1 and ${MAX_INVITE_USES}.`, 'maxUses');
    }
    if (expiresInSeconds != null && (expiresInSeconds < 1 || expiresInSeconds > MAX_INVITE_AGE_SECONDS)) {
      throw badInput(`expiresInSeconds must be between 1 and ${MAX_INVITE_AGE_SECONDS}.`, 'expiresInSeconds');
    }
    return this.db.invite.create({
      data: {
        code: inviteCode(),
        guildId,
        inviterId,
        maxUses: maxUses ?? null,
        expiresAt: expiresInSeconds != null ? new Date(Date.now() + expiresInSeconds * 1000) : null,
      },
    });
  }

  async join(actor: Actor, code: string) {
    const userId = actor.requireUser();
    const cleanCode = String(code ?? '').trim();
    const invite = /^[A-Za-z0-9]{1,64}$/.test(cleanCode) ? await this.db.invite.findUnique({ where: { code: cleanCode } }) : null;
    if (!invite) throw notFound('Invite');
    if (await actor.membership(invite.guildId)) return this.db.guild.findUniqueOrThrow({ where: { id: invite.guildId } });
    if (invite.expiresAt && invite.expiresAt <= new Date()) throw badInput('This invite has expired.', 'inviteCode');
    await this.assertNotBanned(invite.guildId, userId);
    // Claim one use atomically so a limited invite is never over-used by a race.
    const claimed = await this.db.invite.updateMany({
      where: {
        code: invite.code,
        ...(invite.maxUses != null ? { uses: { lt: invite.maxUses } } : {}),
      },
      data: { uses: { increment: 1 } },
    });
    if (claimed.count !== 1) throw badInput('This invite has reached its maximum number of uses.', 'inviteCode');
    return this.addMember(actor, invite.guildId, userId);
  }

  async leave(actor: Actor, guildId: string): Promise<string> {
    const userId = actor.requireUser();
    const membership = await this.access.requireMember(actor, guildId);
    if (membership.isOwner) {
      throw forbidden('The owner cannot leave; transfer ownership or delete the guild instead.');
    }
    await this.removeMember(guildId, userId, 'LEFT');
    actor.forgetMemberships(guildId);
    return guildId;
  }

  async members(actor: Actor, guildId: string, page: PageArgs) {
    await this.access.requireMember(actor, guildId);
    const plan = planPage(page, 'asc');
    const rows = await this.db.member.findMany({
      where: { guildId, id: plan.cursorFilter },
      orderBy: { id: plan.direction },
      take: plan.take,
    });
    const result = await finishPage(rows, plan, 'asc', Boolean(page.after ?? page.before), async (id) =>
      Boolean(await this.db.member.findFirst({ where: { guildId, id }, select: { id: true } })),
    );
    return { ...result, totalCount: () => this.db.member.count({ where: { guildId } }) };
  }

  memberCount(guildId: string): Promise<number> {
    return this.db.member.count({ where: { guildId } });
  }

  /** Adds userId to the guild (idempotent) and announces it. */
  private async addMember(actor: Actor, guildId: string, userId: string) {
    await this.db.member.upsert({
      where: { guildId_userId: { guildId, userId } },
      create: { id: newId(), guildId, userId },
      update: {},
    });
    actor.forgetMemberships(guildId);
    await this.pubsub.publish('guildEvent', guildId, {
      kind: 'MEMBER_JOINED',
      guildId,
      user: await loadUserSnapshot(this.db, userId),
    });
    return this.db.guild.findUniqueOrThrow({ where: { id: guildId } });
  }

  /** Removes a member and cuts their open subscriptions to the guild. */
  async removeMember(guildId: string, userId: string, reason: MemberLeftReason) {
    await this.db.member.deleteMany({ where: { guildId, userId } });
    await this.pubsub.publish('userEvent', userId, { kind: 'ACCESS_REVOKED', guildId });
    await this.pubsub.publish('guildEvent', guildId, {
      kind: 'MEMBER_LEFT',
      guildId,
      user: await loadUserSnapshot(this.db, userId),
      reason,
    });
  }

  private async assertNotBanned(guildId: string, userId: string, message = 'You are banned from this guild.') {
    const ban = await this.db.ban.findUnique({ where: { guildId_userId: { guildId, userId } }, select: { userId: true } });
    if (ban) throw forbidden(message);
  }
}
