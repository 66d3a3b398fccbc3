// A user editing their own profile and settings. What others see changes live: every guild
// the user is in gets a USER_UPDATED event carrying the whole profile, so delivering it to
// any number of members queries nothing.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { PubSub } from '../pubsub/topics.js';
import type { Actor } from './actor.js';
import type { AttachmentService } from './attachments.js';
import { badInput } from './errors.js';
import { userSnapshot } from './snapshots.js';
import { check, checkOptional, rules } from './validation.js';

export interface CustomStatusInput {
  text?: string | null;
  emoji?: string | null;
  expiresAt?: Date | null;
}

/** Every field optional: absent leaves it as it is; null clears bio, customStatus and avatar. */
export interface UpdateProfileInput {
  displayName?: string | null;
  bio?: string | null;
  customStatus?: CustomStatusInput | null;
  avatarAttachmentId?: string | null;
  discoverable?: boolean | null;
}

/** An empty or blank text clears, as null does. */
const blankToNull = (value: string | null | undefined) => (typeof value === 'string' && value.trim() === '' ? null : value);

export class ProfileService {
  constructor(
    private readonly db: Db,
    private readonly pubsub: PubSub,
    private readonly attachments: AttachmentService,
  ) {}

  async update(actor: Actor, input: UpdateProfileInput) {
    const userId = actor.requireUser();
    const data: Prisma.UserUpdateInput = {};
    if (input.displayName != null) data.displayName = check(rules.displayName, input.displayName, 'displayName');
    if (input.bio !== undefined) data.bio = checkOptional(rules.bio, blankToNull(input.bio), 'bio') ?? null;
    if (input.customStatus !== undefined) Object.assign(data, this.customStatus(input.customStatus));
    if (input.discoverable != null) data.discoverable = input.discoverable;
    if (input.avatarAttachmentId !== undefined) {
      const avatarName = input.avatarAttachmentId === null ? null : await this.attachments.prepareAvatar(userId, input.avatarAttachmentId);
      data.avatar = avatarName ? { connect: { storedName: avatarName } } : { disconnect: true };
    }
    let user;
    try {
      user = await this.db.user.update({ where: { id: userId }, data, include: { memberships: { select: { guildId: true } } } });
    } catch (err) {
      // the upload was swept between the check and the write
      if (err instanceof Prisma.PrismaClientKnownRequestError && (err.code === 'P2025' || err.code === 'P2003')) {
        throw badInput('The avatar must be your own upload that is not attached to a message.', 'avatarAttachmentId');
      }
      throw err;
    }
    const { memberships, ...row } = user;
    if (Object.keys(data).some((key) => key !== 'discoverable')) {
      const snapshot = userSnapshot(row);
      await Promise.all(
        memberships.map(({ guildId }) => this.pubsub.publish('guildEvent', guildId, { kind: 'USER_UPDATED', guildId, user: snapshot })),
      );
    }
    return row;
  }

  private customStatus(input: CustomStatusInput | null): Prisma.UserUpdateInput {
    const text = checkOptional(rules.customStatusText, blankToNull(input?.text), 'customStatus.text') ?? null;
    const emoji = checkOptional(rules.emoji, blankToNull(input?.emoji), 'customStatus.emoji') ?? null;
    const expiresAt = input?.expiresAt ?? null;
    if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
      throw badInput('A custom status must expire in the future.', 'customStatus.expiresAt');
    }
    if (!text && !emoji) return { customStatusText: null, customStatusEmoji: null, customStatusExpiresAt: null };
    return { customStatusText: text, customStatusEmoji: emoji, customStatusExpiresAt: expiresAt };
  }
}
