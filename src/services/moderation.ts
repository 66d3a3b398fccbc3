// Kicking and banning. The removed member's open subscriptions end at once (GuildService
// .removeMember publishes the revocation every instance listens for).
//
// What a moderator learns about a user id is what they could see anyway: "Member not found"
// for anyone not in the guild (kick), "User not found" for anyone neither in the guild nor
// sharing another guild with them nor banned here (ban), the same as for an id that names
// nobody.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput, notFound } from './errors.js';
import type { GuildService } from './guilds.js';
import type { RoleService } from './roles.js';
import type { UserService } from './users.js';
import { checkOptional, rules } from './validation.js';

export class ModerationService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly guilds: GuildService,
    private readonly roles: RoleService,
    private readonly users: UserService,
  ) {}

  async kick(actor: Actor, guildId: string, userId: string): Promise<string> {
    const actorUserId = actor.requireUser();
    const membership = await this.access.requirePermission(actor, guildId, 'KICK_MEMBERS');
    if (userId === actorUserId) throw badInput('Use leaveGuild to leave.', 'userId');
    const target = await this.roles.rankOf(guildId, userId);
    if (!target) throw notFound('Member');
    this.roles.assertOutranks(membership, actorUserId, target);
    // of racing kicks one removes the member; the others find no member, as a later call would
    if (!(await this.guilds.removeMember(guildId, userId, 'KICKED'))) throw notFound('Member');
    return userId;
  }

  /**
   * Bans a member, or a user the actor could see (sharing another guild with them), or
   * updates the reason of an existing ban: they are removed and cannot rejoin until unbanned.
   * Idempotent: racing bans all succeed and leave one ban.
   */
  async ban(actor: Actor, guildId: string, userId: string, rawReason?: string | null): Promise<string> {
    const actorUserId = actor.requireUser();
    const membership = await this.access.requirePermission(actor, guildId, 'BAN_MEMBERS');
    if (userId === actorUserId) throw badInput('You cannot ban yourself.', 'userId');
    const reason = checkOptional(rules.reason, rawReason, 'reason') || null;
    const target = await this.roles.rankOf(guildId, userId);
    if (target) {
      this.roles.assertOutranks(membership, actorUserId, target);
    } else {
      const alreadyBanned = await this.db.ban.findUnique({ where: { guildId_userId: { guildId, userId } }, select: { userId: true } });
      if (!alreadyBanned && !(await this.users.canSee(actor, userId))) throw notFound('User');
    }
    try {
      const { count } = await this.db.ban.createMany({
        data: [{ guildId, userId, reason, bannedById: actorUserId }],
        skipDuplicates: true,
      });
      if (count === 0) await this.db.ban.updateMany({ where: { guildId, userId }, data: { reason } });
    } catch (err) {
      // the user (or the guild) was deleted meanwhile
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2003') throw notFound('User');
      throw err;
    }
    // After the ban is stored: a join racing it either sees the ban or is seen here.
    await this.guilds.removeMember(guildId, userId, 'BANNED');
    return userId;
  }

  async unban(actor: Actor, guildId: string, userId: string): Promise<string> {
    await this.access.requirePermission(actor, guildId, 'BAN_MEMBERS');
    const { count } = await this.db.ban.deleteMany({ where: { guildId, userId } });
    if (count === 0) throw notFound('Ban');
    return userId;
  }
}
