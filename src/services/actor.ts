// Who is asking, with per-request caches of the facts authorization needs. One Actor per
// request or subscription; services take it as their first argument.
import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import { type DomainError, unauthenticated } from './errors.js';
import { computePermissions } from './permissions.js';

export interface Membership {
  memberId: string;
  guildId: string;
  isOwner: boolean;
  permissions: bigint;
  /** position of the member's highest role (0 = only @everyone; the owner outranks all) */
  topPosition: number;
}

export class Actor {
  private readonly memberships: DataLoader<string, Membership | null>;

  constructor(
    private readonly db: Db,
    readonly userId: string | null,
    readonly sessionId: string | null = null,
    /** when the access token behind this actor expires (WebSocket connections close then) */
    readonly expiresAt: Date | null = null,
    /** why the presented token was refused; anonymous actors without one have none */
    readonly authError: DomainError | null = null,
  ) {
    this.memberships = new DataLoader((guildIds) => this.loadMemberships(guildIds), { cache: true });
  }

  /** The same identity with empty caches: one per operation of a long-lived connection. */
  fresh(): Actor {
    return new Actor(this.db, this.userId, this.sessionId, this.expiresAt, this.authError);
  }

  get isSignedIn(): boolean {
    return this.userId !== null;
  }

  /** The signed-in user's id, or UNAUTHENTICATED. */
  requireUser(): string {
    if (!this.userId) throw this.authError ?? unauthenticated();
    return this.userId;
  }

  /** The actor's membership in a guild (null when not a member), cached for this request. */
  membership(guildId: string): Promise<Membership | null> {
    if (!this.userId) return Promise.resolve(null);
    return this.memberships.load(guildId);
  }

  /** Forget cached memberships: membership changed, or a long-lived subscription re-checks. */
  forgetMemberships(guildId?: string): void {
    if (guildId) this.memberships.clear(guildId);
    else this.memberships.clearAll();
  }

  private async loadMemberships(guildIds: readonly string[]): Promise<(Membership | null)[]> {
    const userId = this.requireUser();
    const rows = await this.db.member.findMany({
      where: { userId, guildId: { in: [...guildIds] } },
      select: {
        id: true,
        guildId: true,
        guild: { select: { ownerId: true, roles: { where: { isDefault: true }, select: { permissions: true } } } },
        roles: { select: { role: { select: { permissions: true, position: true } } } },
      },
    });
    const byGuild = new Map(
      rows.map((m) => {
        const isOwner = m.guild.ownerId === userId;
        const permissions = computePermissions({
          isOwner,
          everyone: m.guild.roles[0]?.permissions ?? 0n,
          roles: m.roles.map((r) => r.role.permissions),
        });
        const topPosition = isOwner ? Number.POSITIVE_INFINITY : Math.max(0, ...m.roles.map((r) => r.role.position));
        return [m.guildId, { memberId: m.id, guildId: m.guildId, isOwner, permissions, topPosition }] as const;
      }),
    );
    return guildIds.map((id) => byGuild.get(id) ?? null);
  }
}
