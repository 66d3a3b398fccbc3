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
  /** the guild's @everyone role and the member's other roles: whose channel overwrites apply */
  everyoneRoleId: string | null;
  roleIds: readonly string[];
}

export class Actor {
  /** made on first use: most operations of a connection never ask */
  private loader: DataLoader<string, Membership | null> | null = null;
  /** channel → the actor's permissions there, as read with the channel (Access.requireChannel);
   *  made on first use: a subscription's actor lives as long as it does, most with none */
  private channelPermissions: Map<string, bigint> | null = null;

  constructor(
    private readonly db: Db,
    readonly userId: string | null,
    readonly sessionId: string | null = null,
    /** when the access token behind this actor expires, in ms since the epoch (WebSocket
     *  connections close then); a number, not a Date: every live connection holds one */
    readonly expiresAt: number | null = null,
    /** why the presented token was refused; anonymous actors without one have none */
    readonly authError: DomainError | null = null,
  ) {}

  private get memberships(): DataLoader<string, Membership | null> {
    this.loader ??= new DataLoader((guildIds) => this.loadMemberships(guildIds), { cache: true });
    return this.loader;
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

  /** Records a membership read along with something else (one query for channel and member). */
  primeMembership(guildId: string, membership: Membership | null): void {
    if (this.userId) this.memberships.clear(guildId).prime(guildId, membership);
  }

  /** Forget cached memberships: membership changed, or a long-lived subscription re-checks. */
  forgetMemberships(guildId?: string): void {
    if (guildId) this.loader?.clear(guildId);
    // all: nothing cached is kept (a live subscription's actor holds no loader while it waits)
    else this.loader = null;
    this.channelPermissions = null;
  }

  /** The actor's permissions in a channel read earlier in this operation, if it was. */
  knownChannelPermissions(channelId: string): bigint | undefined {
    return this.channelPermissions?.get(channelId);
  }

  primeChannelPermissions(channelId: string, permissions: bigint): void {
    if (this.userId) (this.channelPermissions ??= new Map()).set(channelId, permissions);
  }

  private async loadMemberships(guildIds: readonly string[]): Promise<(Membership | null)[]> {
    const userId = this.requireUser();
    const rows = await this.db.member.findMany({
      where: { userId, guildId: { in: [...guildIds] } },
      select: {
        id: true,
        guildId: true,
        guild: { select: { ownerId: true, roles: { where: { isDefault: true }, select: { id: true, permissions: true } } } },
        roles: { select: { role: { select: { id: true, permissions: true, position: true } } } },
      },
    });
    const byGuild = new Map(
      rows.map((m) => [
        m.guildId,
        membershipOf({
          memberId: m.id,
          guildId: m.guildId,
          isOwner: m.guild.ownerId === userId,
          everyone: m.guild.roles[0]?.permissions ?? 0n,
          everyoneRoleId: m.guild.roles[0]?.id ?? null,
          roles: m.roles.map((r) => r.role),
        }),
      ]),
    );
    return guildIds.map((id) => byGuild.get(id) ?? null);
  }
}

/** A membership from the facts stored about it: the permissions its roles add up to. */
export function membershipOf(facts: {
  memberId: string;
  guildId: string;
  isOwner: boolean;
  everyone: bigint;
  everyoneRoleId: string | null;
  roles: readonly { id: string; permissions: bigint; position: number }[];
}): Membership {
  const { memberId, guildId, isOwner, everyoneRoleId } = facts;
  const permissions = computePermissions({ isOwner, everyone: facts.everyone, roles: facts.roles.map((r) => r.permissions) });
  const topPosition = isOwner ? Number.POSITIVE_INFINITY : Math.max(0, ...facts.roles.map((r) => r.position));
  return { memberId, guildId, isOwner, permissions, topPosition, everyoneRoleId, roleIds: facts.roles.map((r) => r.id) };
}
