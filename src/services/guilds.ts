// Guilds, membership and invites.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { MemberLeftReason, PubSub } from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput, forbidden, notFound } from './errors.js';
import { inviteCode, newId } from './ids.js';
import { type PageArgs, pageById } from './pagination.js';
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
    return pageById(this.db.guild, { OR: [{ isPublic: true }, { members: { some: { userId } } }] }, page);
  }

  async create(actor: Actor, input: CreateGuildInput) {
    const ownerId = actor.requireUser();
    const [guild] = await this.db.$transaction(this.creation(ownerId, input, { ownerJoins: true }).writes);
    actor.forgetMemberships(guild.id);
    return guild;
  }

  /**
   * The writes that create a guild with its @everyone role and #general channel, for one
   * batch transaction (the caller may append writes of its own to it: the lobby's setting).
   */
  creation(ownerId: string, input: CreateGuildInput, { ownerJoins }: { ownerJoins: boolean }) {
    const name = check(rules.guildName, input.name, 'name');
    const description = checkOptional(rules.description, input.description, 'description') ?? null;
    const guildId = newId();
    const guild = this.db.guild.create({
      data: { id: guildId, name, description, isPublic: input.isPublic ?? false, ownerId },
    });
    const rest: Prisma.PrismaPromise<unknown>[] = [
      this.db.role.create({
        data: { id: newId(), guildId, name: '@everyone', position: 0, permissions: DEFAULT_EVERYONE_PERMISSIONS, isDefault: true },
      }),
      ...(ownerJoins ? [this.db.member.create({ data: { id: newId(), guildId, userId: ownerId } })] : []),
      this.db.channel.create({ data: { id: newId(), guildId, name: 'general', type: 'TEXT', position: 0 } }),
    ];
    return { guildId, writes: [guild, ...rest] as [typeof guild, ...Prisma.PrismaPromise<unknown>[]] };
  }

  /** Adds a new account to the instance's default guild, which needs no invite (idempotent). */
  async admit(guildId: string, userId: string): Promise<void> {
    const { count } = await this.guard(() => this.db.member.createMany({ data: [{ id: newId(), guildId, userId }], skipDuplicates: true }));
    if (count === 1) {
      await this.pubsub.publish('guildEvent', guildId, { kind: 'MEMBER_JOINED', guildId, user: await loadUserSnapshot(this.db, userId) });
    }
  }

  /** Hands a guild to a new owner if `fromOwnerId` still owns it; true when it did. */
  async handOver(guildId: string, fromOwnerId: string, toOwnerId: string): Promise<boolean> {
    const { count } = await this.db.guild.updateMany({ where: { id: guildId, ownerId: fromOwnerId }, data: { ownerId: toOwnerId } });
    if (count === 1) {
      const guild = await this.db.guild.findUniqueOrThrow({ where: { id: guildId } });
      await this.pubsub.publish('guildEvent', guildId, { kind: 'GUILD_UPDATED', guildId, guild: guildSnapshot(guild) });
    }
    return count === 1;
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
    const ownerId = actor.requireUser();
    const membership = await this.access.requireMember(actor, guildId);
    if (!membership.isOwner) throw forbidden('Only the owner can transfer ownership.');
    // One conditional write: of two transfers racing, the second finds the actor no longer
    // owner (as it would one call later), and a new owner who just left is not made owner.
    const { count } = await this.db.guild.updateMany({
      where: { id: guildId, ownerId, members: { some: { userId } } },
      data: { ownerId: userId },
    });
    actor.forgetMemberships(guildId);
    if (count === 0) {
      const target = await this.db.member.findUnique({ where: { guildId_userId: { guildId, userId } }, select: { id: true } });
      if (!target) throw notFound('Member');
      throw forbidden('Only the owner can transfer ownership.');
    }
    const guild = await this.db.guild.findUniqueOrThrow({ where: { id: guildId } });
    await this.pubsub.publish('guildEvent', guildId, { kind: 'GUILD_UPDATED', guildId, guild: guildSnapshot(guild) });
    // the former owner keeps only what their roles give: private channels may be gone for them
    await this.pubsub.publish('guildEvent', guildId, { kind: 'CHANNEL_ACCESS_CHANGED', guildId, channelId: null, userId: ownerId });
    return guild;
  }

  async joinPublic(actor: Actor, guildId: string) {
    const userId = actor.requireUser();
    const guild = await this.db.guild.findUnique({ where: { id: guildId } });
    if (!guild || !(await this.access.canSeeGuild(actor, guild))) throw notFound('Guild');
    if (await actor.membership(guildId)) return guild;
    if (!guild.isPublic) throw notFound('Guild');
    await this.assertNotBanned(guildId, userId);
    return this.addMember(actor, guildId, userId, 'You are banned from this guild.');
  }

  /**
   * A manager adds someone directly (a chat whose owner picks its members): someone they
   * share a guild with. Anyone else is "User not found", as an id that names nobody is.
   */
  async addMemberDirectly(actor: Actor, guildId: string, userId: string) {
    await this.access.requirePermission(actor, guildId, 'MANAGE_GUILD');
    const user = await this.db.user.findFirst({
      where: { id: userId, memberships: { some: { guild: { members: { some: { userId: actor.requireUser() } } } } } },
      select: { id: true },
    });
    if (!user) throw notFound('User');
    const banned = 'That user is banned from this guild; unban them first.';
    await this.assertNotBanned(guildId, userId, banned);
    await this.addMember(actor, guildId, userId, banned);
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
    // The use is claimed in the transaction that adds the member, so it counts only for a
    // member who was not one: ten racing joins of one user take one use, and an invite with
    // uses left admits exactly that many racing users (the claim waits on the invite's row).
    return this.addMember(actor, invite.guildId, userId, 'You are banned from this guild.', async (tx) => {
      const claimed = await tx.invite.updateMany({
        where: {
          code: invite.code,
          OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }],
          ...(invite.maxUses != null ? { uses: { lt: invite.maxUses } } : {}),
        },
        data: { uses: { increment: 1 } },
      });
      if (claimed.count !== 1) throw badInput('This invite has reached its maximum number of uses.', 'inviteCode');
    });
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
    return pageById(this.db.member, { guildId }, page);
  }

  memberCount(guildId: string): Promise<number> {
    return this.db.member.count({ where: { guildId } });
  }

  /**
   * Adds userId to the guild and announces it; idempotent (a member already there, or one a
   * racing call just added, is simply there: INSERT … ON CONFLICT DO NOTHING). `claim` runs
   * in the same transaction for a member actually added, and undoes the addition by throwing.
   */
  private async addMember(
    actor: Actor,
    guildId: string,
    userId: string,
    bannedMessage: string,
    claim?: (tx: Prisma.TransactionClient) => Promise<void>,
  ) {
    const row = [{ id: newId(), guildId, userId }];
    const added = await this.guard(async () =>
      claim
        ? this.db.$transaction(async (tx) => {
            const { count } = await tx.member.createMany({ data: row, skipDuplicates: true });
            if (count === 1) await claim(tx);
            return count === 1;
          })
        : (await this.db.member.createMany({ data: row, skipDuplicates: true })).count === 1,
    );
    actor.forgetMemberships(guildId);
    if (added) {
      // A ban committed while this member was being added could not see the new row to
      // remove it; checking after our commit closes that gap (the ban checks after its own).
      if (await this.banned(guildId, userId)) {
        await this.db.member.deleteMany({ where: { guildId, userId } });
        throw forbidden(bannedMessage);
      }
      await this.pubsub.publish('guildEvent', guildId, {
        kind: 'MEMBER_JOINED',
        guildId,
        user: await loadUserSnapshot(this.db, userId),
      });
    }
    return this.db.guild.findUniqueOrThrow({ where: { id: guildId } });
  }

  /** A guild or user deleted under a write (a foreign key refused it) is not found. */
  private async guard<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2003') throw notFound('Guild');
      throw err;
    }
  }

  /**
   * Removes a member and cuts their open subscriptions to the guild. False when they were
   * not a member (any more: a racing removal took them), and then nothing is announced.
   */
  async removeMember(guildId: string, userId: string, reason: MemberLeftReason): Promise<boolean> {
    const { count } = await this.db.member.deleteMany({ where: { guildId, userId } });
    if (count === 0) return false;
    await this.pubsub.publish('userEvent', userId, { kind: 'ACCESS_REVOKED', guildId });
    await this.pubsub.publish('guildEvent', guildId, {
      kind: 'MEMBER_LEFT',
      guildId,
      user: await loadUserSnapshot(this.db, userId),
      reason,
    });
    return true;
  }

  private async banned(guildId: string, userId: string): Promise<boolean> {
    const ban = await this.db.ban.findUnique({ where: { guildId_userId: { guildId, userId } }, select: { userId: true } });
    return ban !== null;
  }

  private async assertNotBanned(guildId: string, userId: string, message = 'You are banned from this guild.') {
    if (await this.banned(guildId, userId)) throw forbidden(message);
  }
}
