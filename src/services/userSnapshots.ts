import type { Db } from '../db/client.js';
import type { UserSnapshot } from '../pubsub/topics.js';

/** The user fields real-time events carry, so subscribers need no query per event. */
export async function loadUserSnapshot(db: Db, userId: string): Promise<UserSnapshot> {
  const user = await db.user.findUniqueOrThrow({
    where: { id: userId },
    select: { id: true, username: true, displayName: true, createdAt: true },
  });
  return { ...user, createdAt: user.createdAt.toISOString() };
}
