// The plain-JSON shapes real-time events carry, so that subscribers need no query per event.
import type { Db } from '../db/client.js';
import type { Channel, Guild } from '../generated/prisma/client.js';
import type { ChannelSnapshot, GuildSnapshot, UserSnapshot } from '../pubsub/topics.js';

export const userSnapshot = (u: { id: string; username: string; displayName: string; createdAt: Date }): UserSnapshot => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  createdAt: u.createdAt.toISOString(),
});

export async function loadUserSnapshot(db: Db, userId: string): Promise<UserSnapshot> {
  const user = await db.user.findUniqueOrThrow({
    where: { id: userId },
    select: { id: true, username: true, displayName: true, createdAt: true },
  });
  return userSnapshot(user);
}

/** From a row, or from a channel that is itself an event's snapshot (dates already text). */
export const channelSnapshot = (c: Omit<Channel, 'createdAt' | 'ownerId' | 'dmKey'> & { createdAt: Date | string }): ChannelSnapshot => ({
  id: c.id,
  guildId: c.guildId,
  name: c.name,
  type: c.type,
  topic: c.topic,
  position: c.position,
  createdAt: typeof c.createdAt === 'string' ? c.createdAt : c.createdAt.toISOString(),
});

export const guildSnapshot = (g: Guild): GuildSnapshot => ({
  id: g.id,
  name: g.name,
  description: g.description,
  isPublic: g.isPublic,
  ownerId: g.ownerId,
  createdAt: g.createdAt.toISOString(),
});
