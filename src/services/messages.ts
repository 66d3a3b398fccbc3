// Sending, reading, editing and deleting messages.
import type { Db } from '../db/client.js';
import type { Statements } from '../db/statements.js';
import type { Channel, Prisma } from '../generated/prisma/client.js';
import type { MessageSnapshot, PubSub, RepliedMessageSnapshot } from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput, conflict, forbidden, notFound } from './errors.js';
import { decodeGlobalId } from '../globalIds.js';
import { isId, newId } from './ids.js';
import { type PageArgs, planPage } from './pagination.js';
import { messagePage, sendAuthorized } from './messageSql.js';
import { channelSnapshot, userSnapshot } from './snapshots.js';
import { Permission, has } from './permissions.js';
import type { AttachmentService } from './attachments.js';
import { isTextual } from './channels.js';
import type { DirectChannelService } from './directChannels.js';
import type { RateLimits } from './rateLimits.js';
import type { ReadStateService } from './readStates.js';
import type { TypingService } from './typing.js';
import { check, checkOptional, rules } from './validation.js';

export interface SendMessageInput {
  channelId: string;
  content: string;
  replyToId?: string | null;
  attachmentIds?: readonly string[] | null;
  /** the client's id of this send: a retry with the same one returns the first message */
  nonce?: string | null;
}

/** How long a nonce names its send: a retry within it returns the first message. */
export const NONCE_WINDOW_MS = 24 * 3600 * 1000;

const MENTION_RE = /<@([A-Za-z0-9+/=_-]{10,80})>/g;
const MAX_MENTIONS = 50;

type Inserted = MessageSnapshot | null | 'nonce-taken';
const NONCE_TAKEN = new Error('nonce taken');

/** Users named as `<@id>` (a user's global id or raw id) other than the author: candidates,
 *  of whom the insert keeps the guild's members. Mentions of anyone else stay plain text. */
function mentionedIds(content: string, authorId: string): string[] {
  const ids = new Set<string>();
  for (const [, token] of content.matchAll(MENTION_RE)) {
    const decoded = isId(token!) ? token! : decodeUserId(token!);
    if (decoded && decoded !== authorId) ids.add(decoded);
    if (ids.size >= MAX_MENTIONS) break;
  }
  return [...ids];
}

/** The user id inside a `User:<id>` global id, or null. */
function decodeUserId(token: string): string | null {
  const decoded = decodeGlobalId(token);
  return decoded?.typename === 'User' ? decoded.id : null;
}

const userSnapshotSelect = { id: true, username: true, displayName: true, createdAt: true } as const;
const attachmentSnapshotSelect = { id: true, fileName: true, storedName: true, contentType: true, size: true } as const;

/** What a published message event carries, so subscribers never query per event. */
export const snapshotInclude = {
  author: { select: userSnapshotSelect },
  attachments: { select: attachmentSnapshotSelect, orderBy: { id: 'asc' } },
  mentions: { select: { user: { select: userSnapshotSelect } } },
  channel: true,
  replyTo: { include: { author: { select: userSnapshotSelect }, attachments: { select: attachmentSnapshotSelect, orderBy: { id: 'asc' } } } },
  reactions: { select: { emoji: true, userId: true }, orderBy: [{ createdAt: 'asc' }, { emoji: 'asc' }] },
} satisfies Prisma.MessageInclude;

type MessageWithSnapshot = Prisma.MessageGetPayload<{ include: typeof snapshotInclude }>;

export function toSnapshot(m: MessageWithSnapshot): MessageSnapshot {
  const reactions = new Map<string, string[]>();
  for (const { emoji, userId } of m.reactions) {
    const users = reactions.get(emoji);
    if (users) users.push(userId);
    else reactions.set(emoji, [userId]);
  }
  return {
    ...repliedSnapshot(m),
    guildId: m.channel.guildId,
    nonce: m.nonce,
    mentionIds: m.mentions.map((x) => x.user.id),
    mentions: m.mentions.map((x) => userSnapshot(x.user)),
    replyTo: m.replyTo ? repliedSnapshot(m.replyTo) : null,
    reactions: [...reactions].map(([emoji, userIds]) => ({ emoji, userIds })),
    channel: channelSnapshot(m.channel),
  };
}

function repliedSnapshot(m: MessageWithSnapshot['replyTo'] & {}): RepliedMessageSnapshot {
  return {
    id: m.id,
    channelId: m.channelId,
    authorId: m.authorId,
    content: m.content,
    createdAt: m.createdAt.toISOString(),
    editedAt: m.editedAt?.toISOString() ?? null,
    replyToId: m.replyToId,
    author: userSnapshot(m.author),
    attachments: m.attachments,
  };
}

export class MessageService {
  constructor(
    private readonly db: Db,
    private readonly statements: Statements,
    private readonly access: Access,
    private readonly pubsub: PubSub,
    private readonly typing: TypingService,
    private readonly readStates: ReadStateService,
    private readonly attachments: AttachmentService,
    private readonly limits: RateLimits,
    private readonly directs: DirectChannelService,
    /** told about a stored message whose event could not be published */
    private readonly reportError: (err: unknown, what: string) => void = () => {},
  ) {}

  async get(actor: Actor, messageId: string) {
    actor.requireUser();
    const message = await this.db.message.findUnique({ where: { id: messageId } });
    if (!message) throw notFound('Message');
    // a message of a channel the actor may not view is not found, like the channel
    await this.access.channelPermissions(actor, message.channelId, 'Message');
    return message;
  }

  /**
   * A page of a channel's history, newest first: `after` pages back in time, `before`
   * forward. One statement returns the messages as the snapshots events carry (author,
   * attachments, mentions, reactions, reply target), so reading them queries nothing more;
   * the channel's membership comes from the actor (already loaded with the channel).
   */
  async list(actor: Actor, channel: Channel, page: PageArgs) {
    await this.access.channelPermissions(actor, channel.id);
    const plan = planPage(page, 'desc');
    const cursor = (plan.backwards ? page.before : page.after) ?? null;
    const { rows, otherSide } = await messagePage(this.db, {
      channel: channelSnapshot(channel),
      cursor,
      direction: plan.direction,
      take: plan.take,
    });
    const more = rows.length > plan.size;
    const items = rows.slice(0, plan.size);
    if (plan.backwards) items.reverse();
    const result = plan.backwards
      ? { items, hasPreviousPage: more, hasNextPage: otherSide && items.length > 0 }
      : { items, hasNextPage: more, hasPreviousPage: otherSide && items.length > 0 };
    // the channel's message count as triggers keep it (sharded rows, at most 16): never a count of history
    const totalCount = () =>
      this.db.channelMessageCount.aggregate({ where: { channelId: channel.id }, _sum: { messages: true } }).then((r) => r._sum.messages ?? 0);
    return { ...result, totalCount };
  }

  /**
   * Snapshots of the channel's messages after `afterId`, oldest first: the replay of a
   * resumed subscription. The caller has authorized the channel.
   */
  async snapshotsAfter(channelId: string, afterId: string, limit: number): Promise<MessageSnapshot[]> {
    const rows = await this.db.message.findMany({
      where: { channelId, id: { gt: afterId } },
      orderBy: { id: 'asc' },
      take: limit,
      include: snapshotInclude,
    });
    return rows.map(toSnapshot);
  }

  /**
   * Sends a message and publishes it. Without attachments the database sees one statement,
   * which checks the channel and the sender's permission and stores everything; with them,
   * the channel is checked first and the message and its files commit together. Returns what
   * the event carries, so the answer queries nothing either.
   */
  async send(actor: Actor, input: SendMessageInput): Promise<MessageSnapshot> {
    const authorId = actor.requireUser();
    const content = check(rules.messageContent, input.content, 'content');
    const nonce = checkOptional(rules.nonce, input.nonce, 'nonce') ?? null;
    const attachmentIds = input.attachmentIds ?? [];
    const replyToId = input.replyToId ?? null;
    const mentionIds = mentionedIds(content, authorId);
    const store = (): Promise<Inserted> =>
      attachmentIds.length
        ? this.sendWithAttachments(actor, input.channelId, content, replyToId, mentionIds, attachmentIds, nonce)
        : this.storeChecked(actor, input.channelId, content, replyToId, mentionIds, nonce);
    // counted before anything is stored: a refused send stores nothing
    await this.limits.consume('message', authorId);
    let outcome = await store();
    if (outcome === 'nonce-taken') {
      // A retry of a stored send (or the same send racing on another request or instance):
      // the first message is the answer, and it was published already.
      const first = await this.sentWithNonce(authorId, nonce!);
      if (first) return first;
      // the claim had outlived its window and is gone now
      outcome = await store();
      if (outcome === 'nonce-taken') throw conflict('This nonce is in use by another send; retry.', 'nonce');
    }
    if (!outcome) throw badInput('A reply must point to a message of the same channel.', 'replyToId');
    const event = outcome;
    // Stored is sent: the answer does not wait for the PubSub's round trip (the events are
    // handed to it here, in order, before the sender can do anything next). With the PubSub
    // away, subscribers catch up from the database when it is back (RealtimeService), so the
    // send succeeds rather than invite a duplicate retry.
    Promise.all([
      this.pubsub.publish('messageAdded', event.channelId, event),
      ...event.mentionIds.map((userId) => this.pubsub.publish('userEvent', userId, { kind: 'MENTIONED', message: event })),
      // sending ends the sender's typing indicator (the read marker moved with the insert)
      this.typing.clear(event.channelId, authorId, event.author),
    ]).catch((err: unknown) => this.reportError(err, 'a stored message could not be published; subscribers catch up when the PubSub is back'));
    return event;
  }

  /** One statement: the channel and the sender's permission checked, the message stored. A
   *  DM or group chat first has its other side checked (blocks, their DM policy). */
  private async storeChecked(
    actor: Actor,
    channelId: string,
    content: string,
    replyToId: string | null,
    mentionIds: readonly string[],
    nonce: string | null,
    directChecked = false,
  ): Promise<Inserted> {
    const authorId = actor.requireUser();
    const sent = await sendAuthorized(this.statements, {
      id: newId(),
      channelId,
      authorId,
      content,
      replyToId,
      mentionIds,
      nonce,
      needed: Permission.SEND_MESSAGES,
      directChecked,
    });
    switch (sent.refused) {
      case null:
        return sent.message;
      case 'not-found':
        throw notFound('Channel');
      case 'forbidden':
        throw forbidden('You need the SEND_MESSAGES permission in this channel.');
      case 'not-text':
        throw badInput('Messages can only be sent to text channels.', 'channelId');
      case 'direct': {
        const channel = await this.access.requireChannel(actor, channelId);
        await this.directs.assertMaySendDirect(actor, channel);
        return this.storeChecked(actor, channelId, content, replyToId, mentionIds, nonce, true);
      }
    }
  }

  /** The checks of a send with files, then the message and its files in one transaction. */
  private async sendWithAttachments(
    actor: Actor,
    channelId: string,
    content: string,
    replyToId: string | null,
    mentionIds: readonly string[],
    attachmentIds: readonly string[],
    nonce: string | null,
  ): Promise<Inserted> {
    const authorId = actor.requireUser();
    const channel = await this.access.requireChannel(actor, channelId);
    await this.access.requireChannelPermission(actor, channel.id, 'SEND_MESSAGES');
    if (!isTextual(channel)) throw badInput('Messages can only be sent to text channels.', 'channelId');
    // a DM goes only where its other person still takes it (no block, their policy)
    await this.directs.assertMaySendDirect(actor, channel);
    await this.access.requireChannelPermission(actor, channel.id, 'ATTACH_FILES');
    await this.attachments.assertClaimable(authorId, attachmentIds);
    return this.createWithAttachments(authorId, channel, content, replyToId, mentionIds, attachmentIds, nonce);
  }

  /** The message an author stored under this nonce within the window; a claim past the
   *  window that the sweep has not reached yet is released here. */
  private async sentWithNonce(authorId: string, nonce: string): Promise<MessageSnapshot | null> {
    const claim = await this.db.messageNonce.findUnique({
      where: { authorId_nonce: { authorId, nonce } },
      select: { createdAt: true, message: { include: snapshotInclude } },
    });
    if (!claim) return null;
    if (claim.createdAt.getTime() >= Date.now() - NONCE_WINDOW_MS) return toSnapshot(claim.message);
    await this.db.messageNonce.deleteMany({ where: { authorId, nonce, createdAt: claim.createdAt } });
    return null;
  }

  /** Frees nonces older than the window (the claims of deleted messages went with them). */
  async sweepNonces(now = new Date()): Promise<number> {
    const { count } = await this.db.messageNonce.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - NONCE_WINDOW_MS) } } });
    return count;
  }

  /** The message and its attachments commit together: a refused claim leaves no message. */
  private async createWithAttachments(
    authorId: string,
    channel: { id: string },
    content: string,
    replyToId: string | null,
    mentionIds: readonly string[],
    attachmentIds: readonly string[],
    nonce: string | null,
  ): Promise<Inserted> {
    if (replyToId) {
      const target = await this.db.message.findUnique({ where: { id: replyToId }, select: { channelId: true } });
      if (!target || target.channelId !== channel.id) return null;
    }
    // as the send function keeps them: only those who may view the channel
    const members = mentionIds.length
      ? await this.db.$queryRaw<{ userId: string }[]>`
          SELECT candidate.id AS "userId" FROM unnest(${[...mentionIds]}::text[]) AS candidate(id)
          WHERE "chat_channel_permissions"(${channel.id}, candidate.id) & ${Permission.VIEW_CHANNEL} <> 0`
      : [];
    const id = newId();
    const stored = await this.db.$transaction(async (tx) => {
      await tx.message.create({
        data: {
          id,
          channelId: channel.id,
          authorId,
          content,
          replyToId,
          nonce,
          mentions: { createMany: { data: members.map((m) => ({ userId: m.userId, channelId: channel.id })) } },
        },
      });
      if (nonce) {
        const claimed = await tx.messageNonce.createMany({ data: [{ authorId, nonce, messageId: id }], skipDuplicates: true });
        // taken by a racing send: roll this one back, attachments unclaimed
        if (claimed.count === 0) throw NONCE_TAKEN;
      }
      await this.attachments.claimForMessage(authorId, attachmentIds, id, tx);
      return true;
    }).catch((err: unknown) => {
      if (err === NONCE_TAKEN) return false;
      throw err;
    });
    if (!stored) return 'nonce-taken';
    await this.readStates.advance(authorId, channel.id, id);
    return toSnapshot(await this.db.message.findUniqueOrThrow({ where: { id }, include: snapshotInclude }));
  }

  async edit(actor: Actor, messageId: string, rawContent: string) {
    const userId = actor.requireUser();
    const existing = await this.get(actor, messageId);
    if (existing.authorId !== userId) throw forbidden('Only the author can edit a message.');
    const content = check(rules.messageContent, rawContent, 'content');
    const message = await this.db.message.update({
      where: { id: messageId },
      data: { content, editedAt: new Date() },
      include: snapshotInclude,
    });
    await this.pubsub.publish('messageUpdated', message.channelId, toSnapshot(message));
    return message;
  }

  async delete(actor: Actor, messageId: string): Promise<string> {
    const userId = actor.requireUser();
    const message = await this.get(actor, messageId);
    if (message.authorId !== userId) {
      const permissions = await this.access.channelPermissions(actor, message.channelId, 'Message');
      if (!has(permissions, Permission.MANAGE_MESSAGES)) {
        throw forbidden('Only the author or a member with MANAGE_MESSAGES can delete a message.');
      }
    }
    await this.db.message.delete({ where: { id: messageId } });
    await this.pubsub.publish('messageDeleted', message.channelId, { id: messageId, channelId: message.channelId });
    return messageId;
  }
}
