// The plain-JSON shapes real-time events carry, so that subscribers need no query per event.
import type { Db } from '../db/client.js';
import type { Channel, Guild } from '../generated/prisma/client.js';
import type { ChannelSnapshot, GuildSnapshot, ProfileSnapshot, UserSnapshot } from '../pubsub/topics.js';

/** The profile columns of a user row, as snapshots and profile fields read them. */
export const PROFILE_COLUMNS = {
  bio: true,
  avatarName: true,
  customStatusText: true,
  customStatusEmoji: true,
  customStatusExpiresAt: true,
} as const;

export interface ProfileColumns {
  bio: string | null;
  avatarName: string | null;
  customStatusText: string | null;
  customStatusEmoji: string | null;
  customStatusExpiresAt: Date | null;
}

export const profileSnapshot = (u: ProfileColumns): ProfileSnapshot => ({
  bio: u.bio,
  avatarName: u.avatarName,
  customStatus:
    u.customStatusText || u.customStatusEmoji
      ? { text: u.customStatusText, emoji: u.customStatusEmoji, expiresAt: u.customStatusExpiresAt?.toISOString() ?? null }
      : null,
});

type UserRow = { id: string; username: string; displayName: string; createdAt: Date } & Partial<ProfileColumns>;

/** From a row; with its profile when the row has the profile columns. */
export const userSnapshot = (u: UserRow): UserSnapshot => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  createdAt: u.createdAt.toISOString(),
  ...(u.bio !== undefined ? { profile: profileSnapshot(u as ProfileColumns) } : {}),
});

const SNAPSHOT_COLUMNS = { id: true, username: true, displayName: true, createdAt: true, ...PROFILE_COLUMNS } as const;

export async function loadUserSnapshot(db: Db, userId: string): Promise<UserSnapshot> {
  return userSnapshot(await db.user.findUniqueOrThrow({ where: { id: userId }, select: SNAPSHOT_COLUMNS }));
}

/** Snapshots of several users in one query, in the order of `userIds` (unknown ids left out). */
export async function loadUserSnapshots(db: Db, userIds: readonly string[]): Promise<UserSnapshot[]> {
  if (userIds.length === 0) return [];
  const rows = await db.user.findMany({ where: { id: { in: [...userIds] } }, select: SNAPSHOT_COLUMNS });
  const byId = new Map(rows.map((r) => [r.id, r]));
  return userIds.flatMap((id) => {
    const row = byId.get(id);
    return row ? [userSnapshot(row)] : [];
  });
}

/** From a row, or from a channel that is itself an event's snapshot (dates already text). */
export const channelSnapshot = (
  c: Omit<Channel, 'createdAt' | 'ownerId' | 'dmKey' | 'userLimit' | 'bitrate'> & { createdAt: Date | string; userLimit?: number; bitrate?: number },
): ChannelSnapshot => ({
  id: c.id,
  guildId: c.guildId,
  name: c.name,
  type: c.type,
  topic: c.topic,
  position: c.position,
  createdAt: typeof c.createdAt === 'string' ? c.createdAt : c.createdAt.toISOString(),
  ...(c.type === 'VOICE' ? { userLimit: c.userLimit ?? 0, bitrate: c.bitrate ?? 64000 } : {}),
});

export const guildSnapshot = (g: Guild): GuildSnapshot => ({
  id: g.id,
  name: g.name,
  description: g.description,
  isPublic: g.isPublic,
  ownerId: g.ownerId,
  createdAt: g.createdAt.toISOString(),
});
