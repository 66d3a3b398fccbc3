// The authorization questions every service asks. A resource the actor may not see is
// NOT_FOUND (never a hint that it exists); one it sees but may not change is FORBIDDEN.
import type { Db } from '../db/client.js';
import type { Actor, Membership } from './actor.js';
import { forbidden, notFound } from './errors.js';
import { type PermissionName, Permission, has } from './permissions.js';

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

  /** A channel whose guild the actor belongs to, or NOT_FOUND. */
  async requireChannel(actor: Actor, channelId: string) {
    actor.requireUser();
    const channel = await this.db.channel.findUnique({ where: { id: channelId } });
    if (!channel || !(await actor.membership(channel.guildId))) throw notFound('Channel');
    return channel;
  }

  async canSeeGuild(actor: Actor, guild: { id: string; isPublic: boolean }): Promise<boolean> {
    return guild.isPublic || (await actor.membership(guild.id)) !== null;
  }
}
