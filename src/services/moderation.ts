// Kicking and banning. The removed member's open subscriptions end at once (GuildService
// .removeMember publishes the revocation every instance listens for).
import type { Db } from '../db/client.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput, notFound } from './errors.js';
import type { GuildService } from './guilds.js';
import type { RoleService } from './roles.js';
import { checkOptional, rules } from './validation.js';

export class ModerationService {
  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly guilds: GuildService,
    private readonly roles: RoleService,
  ) {}

  async kick(actor: Actor, guildId: string, userId: string): Promise<string> {
    const membership = await this.access.requirePermission(actor, guildId, 'KICK_MEMBERS');
    if (userId === actor.userId) throw badInput('Use leaveGuild to leave.', 'userId');
    const target = await this.target(guildId, userId);
    if (!target.isMember) throw notFound('Member');
    await this.roles.assertOutranks(membership, guildId, target);
    await this.guilds.removeMember(guildId, userId, 'KICKED');
    return userId;
  }

  /** Bans a member or any user: they are removed and cannot rejoin until unbanned. */
  async ban(actor: Actor, guildId: string, userId: string, rawReason?: string | null): Promise<string> {
    const membership = await this.access.requirePermission(actor, guildId, 'BAN_MEMBERS');
    if (userId === actor.userId) throw badInput('You cannot ban yourself.', 'userId');
    const reason = checkOptional(rules.reason, rawReason, 'reason') || null;
    const target = await this.target(guildId, userId);
    await this.roles.assertOutranks(membership, guildId, target);
    await this.db.ban.upsert({
      where: { guildId_userId: { guildId, userId } },
      create: { guildId, userId, reason, bannedById: actor.requireUser() },
      update: { reason },
    });
    if (target.isMember) await this.guilds.removeMember(guildId, userId, 'BANNED');
    return userId;
  }

  async unban(actor: Actor, guildId: string, userId: string): Promise<string> {
    await this.access.requirePermission(actor, guildId, 'BAN_MEMBERS');
    const { count } = await this.db.ban.deleteMany({ where: { guildId, userId } });
    if (count === 0) throw notFound('Ban');
    return userId;
  }

  private async target(guildId: string, userId: string) {
    const user = await this.db.user.findUnique({
      where: { id: userId },
      select: { id: true, ownedGuilds: { where: { id: guildId }, select: { id: true } }, memberships: { where: { guildId }, select: { id: true } } },
    });
    if (!user) throw notFound('User');
    return { userId, isOwner: user.ownedGuilds.length > 0, isMember: user.memberships.length > 0 };
  }
}
