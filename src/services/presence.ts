// Presence: ONLINE while a user has a live connection (unless they chose IDLE or DND),
// OFFLINE otherwise. The connection registry lives in src/realtime; this service answers.
import type { Db } from '../db/client.js';
import type { PresenceStatusName } from '../pubsub/topics.js';
import type { Actor } from './actor.js';

export interface ConnectionRegistry {
  /** users among userIds with at least one live connection on any instance */
  onlineAmong(userIds: string[]): Promise<Set<string>>;
}

export class PresenceService {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionRegistry,
  ) {}

  async statusOf(userId: string): Promise<PresenceStatusName> {
    const online = await this.connections.onlineAmong([userId]);
    if (!online.has(userId)) return 'OFFLINE';
    const user = await this.db.user.findUnique({ where: { id: userId }, select: { presencePreference: true } });
    return user?.presencePreference ?? 'ONLINE';
  }

  /** Members of a guild with a live connection; empty for a non-member. */
  async onlineMembers(actor: Actor, guildId: string) {
    if (!(await actor.membership(guildId))) return [];
    const members = await this.db.member.findMany({ where: { guildId }, select: { userId: true } });
    const online = await this.connections.onlineAmong(members.map((m) => m.userId));
    if (online.size === 0) return [];
    return this.db.user.findMany({ where: { id: { in: [...online] } }, orderBy: { id: 'asc' } });
  }
}
