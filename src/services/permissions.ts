// Guild permissions as a pure calculation over a few facts, in the spirit of Discord's
// bitfield (the bit values are Discord's, so bots and tooling read them the same way).

export const Permission = {
  CREATE_INVITE: 1n << 0n,
  KICK_MEMBERS: 1n << 1n,
  BAN_MEMBERS: 1n << 2n,
  ADMINISTRATOR: 1n << 3n,
  MANAGE_CHANNELS: 1n << 4n,
  MANAGE_GUILD: 1n << 5n,
  ADD_REACTIONS: 1n << 6n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  MANAGE_MESSAGES: 1n << 13n,
  ATTACH_FILES: 1n << 15n,
  MENTION_EVERYONE: 1n << 17n,
  CONNECT: 1n << 20n,
  SPEAK: 1n << 21n,
  MUTE_MEMBERS: 1n << 22n,
  DEAFEN_MEMBERS: 1n << 23n,
  MOVE_MEMBERS: 1n << 24n,
  MANAGE_ROLES: 1n << 28n,
} as const;

export type PermissionName = keyof typeof Permission;
export const PERMISSION_NAMES = Object.keys(Permission) as PermissionName[];

export const ALL_PERMISSIONS = Object.values(Permission).reduce((acc, bit) => acc | bit, 0n);

/** What @everyone grants in a new guild. */
export const DEFAULT_EVERYONE_PERMISSIONS =
  Permission.CREATE_INVITE |
  Permission.VIEW_CHANNEL |
  Permission.SEND_MESSAGES |
  Permission.ADD_REACTIONS |
  Permission.ATTACH_FILES |
  Permission.CONNECT |
  Permission.SPEAK;

export interface PermissionFacts {
  isOwner: boolean;
  everyone: bigint;
  /** permissions of every other role the member holds */
  roles: bigint[];
}

export function computePermissions(facts: PermissionFacts): bigint {
  if (facts.isOwner) return ALL_PERMISSIONS;
  const granted = facts.roles.reduce((acc, bits) => acc | bits, facts.everyone);
  return granted & Permission.ADMINISTRATOR ? ALL_PERMISSIONS : granted & ALL_PERMISSIONS;
}

export const has = (granted: bigint, needed: bigint): boolean => (granted & needed) === needed;

export const toNames = (bits: bigint): PermissionName[] => PERMISSION_NAMES.filter((n) => has(bits, Permission[n]));

export const fromNames = (names: readonly PermissionName[]): bigint =>
  names.reduce((acc, n) => acc | Permission[n], 0n);

/** Allow and deny bits of one overwrite (or of several combined). */
export interface OverwriteBits {
  allow: bigint;
  deny: bigint;
}

/** The overwrites of one channel that concern one member, as Discord groups them. */
export interface ChannelOverwrites {
  /** the overwrite of the guild's @everyone role */
  everyone: OverwriteBits | null;
  /** the overwrites of the member's other roles */
  roles: readonly OverwriteBits[];
  /** the overwrite of the member themself */
  member: OverwriteBits | null;
}

/** Guild-wide powers: an overwrite cannot grant or take them in one channel. */
export const GUILD_ONLY_PERMISSIONS =
  Permission.ADMINISTRATOR | Permission.KICK_MEMBERS | Permission.BAN_MEMBERS | Permission.MANAGE_GUILD;

/** What the recipients of a DM or group chat may do there (chat_channel_permissions in SQL
 *  answers the same: migration *_direct_channels). */
export const DIRECT_CHANNEL_PERMISSIONS =
  Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.ADD_REACTIONS | Permission.ATTACH_FILES;

/**
 * A member's permissions in one channel, in Discord's order: the guild permissions (the
 * owner and ADMINISTRATOR keep everything, overwrites ignored), then the @everyone overwrite,
 * then the member's role overwrites combined (every deny, then every allow), then the
 * member's own overwrite. Without VIEW_CHANNEL nothing else in the channel counts.
 */
export function computeChannelPermissions(guildPermissions: bigint, overwrites: ChannelOverwrites): bigint {
  if (has(guildPermissions, Permission.ADMINISTRATOR)) return ALL_PERMISSIONS;
  const apply = (bits: bigint, o: OverwriteBits | null) => (o ? (bits & ~o.deny) | o.allow : bits);
  let bits = apply(guildPermissions, overwrites.everyone);
  bits = apply(
    bits,
    overwrites.roles.reduce((acc, o) => ({ allow: acc.allow | o.allow, deny: acc.deny | o.deny }), { allow: 0n, deny: 0n }),
  );
  bits = apply(bits, overwrites.member) & ALL_PERMISSIONS;
  return has(bits, Permission.VIEW_CHANNEL) ? bits : 0n;
}
