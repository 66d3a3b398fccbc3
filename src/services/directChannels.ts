// Direct messages and group chats: channels outside any guild whose recipients are their only
// members. Everything messages have (history, live events with resume, typing, edits,
// reactions, mentions, attachments, unread counts) works in them through the same services,
// because Access.requireChannel answers for them as for guild channels.
//
// Who may start talking to whom: nobody reaches someone who blocked them, nor someone they
// blocked, and each user's direct message policy says who else may (EVERYONE, those sharing
// a guild with them, NOBODY). Checked when a DM is opened or sent to, and when someone is put
// in a group chat. A user the actor cannot see (no shared guild or chat) and who does not take
// messages from everyone is "User not found", as an id that names nobody is.
import DataLoader from 'dataloader';
import type { Db } from '../db/client.js';
import type { Channel, User } from '../generated/prisma/client.js';
import type { PubSub } from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { Actor } from './actor.js';
import { badInput, forbidden, notFound } from './errors.js';
import { newId } from './ids.js';
import { check, checkOptional, rules } from './validation.js';

export type DirectMessagePolicy = 'EVERYONE' | 'SHARED_GUILDS' | 'NOBODY';

/** People in one group chat, its owner included. */
export const MAX_GROUP_CHAT_SIZE = 10;

/** The unique key of two people's DM: the same whoever opens it. */
export const dmKey = (a: string, b: string) => (a < b ? `${a}:${b}` : `${b}:${a}`);

interface ChannelRow extends Omit<Channel, 'type'> {
  type: Channel['type'];
}

export class DirectChannelService {
  /** per operation: a channel's recipients, one query for every channel of a list */
  private readonly recipientLoaders = new WeakMap<Actor, DataLoader<string, User[]>>();

  constructor(
    private readonly db: Db,
    private readonly access: Access,
    private readonly pubsub: PubSub,
  ) {}

  /**
   * The one DM channel of the actor and userId, created on first use. Idempotent and safe
   * under races: the pair's key is unique, so of two concurrent calls one inserts and the
   * other finds that channel.
   */
  async open(actor: Actor, userId: string): Promise<Channel> {
    const self = actor.requireUser();
    if (userId === self) throw badInput('A direct message needs someone other than you.', 'userId');
    await this.assertMayContact(actor, userId);
    const key = dmKey(self, userId);
    const existing = await this.db.channel.findUnique({ where: { dmKey: key } });
    if (existing) return existing;
    const id = newId();
    await this.db.$transaction(async (tx) => {
      // a racing call's insert holds the key until it commits; this one then inserts nothing
      const inserted = await tx.$executeRaw`
        INSERT INTO "Channel" (id, "guildId", name, type, position, "dmKey")
        VALUES (${id}, NULL, '', 'DM', 0, ${key}) ON CONFLICT ("dmKey") DO NOTHING`;
      if (inserted === 1) {
        await tx.channelRecipient.createMany({ data: [{ channelId: id, userId: self }, { channelId: id, userId }] });
      }
    });
    return this.db.channel.findUniqueOrThrow({ where: { dmKey: key } });
  }

  /** A group chat of the actor (its owner) and up to MAX_GROUP_CHAT_SIZE - 1 others. */
  async createGroup(actor: Actor, userIds: readonly string[], rawName?: string | null): Promise<Channel> {
    const self = actor.requireUser();
    const others = [...new Set(userIds)].filter((id) => id !== self);
    if (others.length === 0) throw badInput('A group chat needs at least one other person.', 'userIds');
    if (others.length + 1 > MAX_GROUP_CHAT_SIZE) {
      throw badInput(`A group chat holds at most ${MAX_GROUP_CHAT_SIZE} people.`, 'userIds');
    }
    const name = checkOptional(rules.channelName, rawName, 'name') ?? '';
    for (const userId of others) await this.assertMayContact(actor, userId);
    const id = newId();
    await this.db.$transaction([
      this.db.channel.create({ data: { id, guildId: null, name, type: 'GROUP_DM', position: 0, ownerId: self } }),
      this.db.channelRecipient.createMany({ data: [self, ...others].map((userId) => ({ channelId: id, userId })) }),
    ]);
    return this.db.channel.findUniqueOrThrow({ where: { id } });
  }

  /** Any recipient adds someone who may be contacted by them; idempotent. */
  async addGroupMember(actor: Actor, channelId: string, userId: string): Promise<Channel> {
    const channel = await this.requireGroup(actor, channelId);
    if (await this.isRecipient(channelId, userId)) return channel;
    await this.assertMayContact(actor, userId);
    // the channel's row lock orders concurrent additions, so the size limit holds under races
    await this.db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM "Channel" WHERE id = ${channelId} FOR UPDATE`;
      const size = await tx.channelRecipient.count({ where: { channelId } });
      if (size >= MAX_GROUP_CHAT_SIZE) throw badInput(`A group chat holds at most ${MAX_GROUP_CHAT_SIZE} people.`, 'userId');
      await tx.channelRecipient.createMany({ data: [{ channelId, userId }], skipDuplicates: true });
    });
    return channel;
  }

  /** The owner removes someone; their open subscriptions of the chat end at once. */
  async removeGroupMember(actor: Actor, channelId: string, userId: string): Promise<Channel> {
    const self = actor.requireUser();
    const channel = await this.requireGroup(actor, channelId);
    if (channel.ownerId !== self) throw forbidden('Only the owner of the group chat can remove people.');
    if (userId === self) throw badInput('Use leaveGroupChat to leave.', 'userId');
    if (!(await this.removeRecipient(channelId, userId))) throw notFound('User');
    return channel;
  }

  /** Leaves the chat; an owner who leaves hands it to the longest-standing member, and the
   *  last one out deletes it. */
  async leaveGroup(actor: Actor, channelId: string): Promise<string> {
    const self = actor.requireUser();
    const channel = await this.requireGroup(actor, channelId);
    await this.removeRecipient(channelId, self);
    const heir = await this.db.channelRecipient.findFirst({ where: { channelId }, orderBy: [{ joinedAt: 'asc' }, { userId: 'asc' }] });
    if (!heir) {
      await this.db.channel.deleteMany({ where: { id: channelId } });
    } else if (channel.ownerId === self) {
      await this.db.channel.updateMany({ where: { id: channelId, ownerId: self }, data: { ownerId: heir.userId } });
    }
    return channelId;
  }

  /** Any recipient names the chat ("" clears the name). */
  async renameGroup(actor: Actor, channelId: string, rawName: string): Promise<Channel> {
    await this.requireGroup(actor, channelId);
    const name = rawName.trim() === '' ? '' : check(rules.channelName, rawName, 'name');
    return this.db.channel.update({ where: { id: channelId }, data: { name } });
  }

  /**
   * The actor's DMs and group chats, most recent activity first: their newest message, or
   * their creation when they have none (ULIDs of both are times, so one key orders them).
   */
  async list(actor: Actor): Promise<Channel[]> {
    const self = actor.requireUser();
    const rows = await this.db.$queryRaw<ChannelRow[]>`
      SELECT c.id, c."guildId", c.name, c.type::text AS type, c.topic, c.position, c."createdAt", c."ownerId", c."dmKey", c."userLimit", c.bitrate
      FROM "ChannelRecipient" cr JOIN "Channel" c ON c.id = cr."channelId"
      WHERE cr."userId" = ${self}
      -- the channel as a range, not "=", so the newest message is read off the channel's index
      -- (messagePage in messageSql.ts says why)
      ORDER BY GREATEST(c.id, COALESCE((SELECT m.id FROM "Message" m WHERE m."channelId" >= c.id AND m."channelId" <= c.id
                                        ORDER BY m."channelId" DESC, m.id DESC LIMIT 1), '')) DESC`;
    return rows;
  }

  /** The people in a DM or group chat, in the order they joined; none for a guild channel. */
  recipients(actor: Actor, channelId: string): Promise<User[]> {
    let loader = this.recipientLoaders.get(actor);
    if (!loader) {
      loader = new DataLoader(async (ids) => {
        const rows = await this.db.channelRecipient.findMany({
          where: { channelId: { in: [...ids] } },
          orderBy: [{ joinedAt: 'asc' }, { userId: 'asc' }],
          include: { user: true },
        });
        const byChannel = new Map<string, User[]>();
        for (const r of rows) {
          const list = byChannel.get(r.channelId);
          if (list) list.push(r.user);
          else byChannel.set(r.channelId, [r.user]);
        }
        return ids.map((id) => byChannel.get(id) ?? []);
      });
      this.recipientLoaders.set(actor, loader);
    }
    return loader.load(channelId);
  }

  /** Whether a DM may be sent now: the other person has not blocked the sender (or been
   *  blocked), and their policy still lets the sender reach them. */
  async assertMaySendDirect(actor: Actor, channel: Pick<Channel, 'id' | 'type' | 'dmKey'>): Promise<void> {
    if (channel.type !== 'DM' || !channel.dmKey) return;
    const self = actor.requireUser();
    const other = channel.dmKey.split(':').find((id) => id !== self);
    if (other) await this.assertMayContact(actor, other);
  }

  // ---- blocking and the direct message policy ----

  async block(actor: Actor, userId: string): Promise<User> {
    const self = actor.requireUser();
    if (userId === self) throw badInput('You cannot block yourself.', 'userId');
    // someone the actor can see: sharing a guild or a chat (whoever could reach them has one)
    const user = await this.db.user.findFirst({
      where: {
        id: userId,
        OR: [
          { memberships: { some: { guild: { members: { some: { userId: self } } } } } },
          { channelRecipients: { some: { channel: { recipients: { some: { userId: self } } } } } },
        ],
      },
    });
    if (!user) throw notFound('User');
    await this.db.userBlock.createMany({ data: [{ blockerId: self, blockedId: userId }], skipDuplicates: true });
    return user;
  }

  async unblock(actor: Actor, userId: string): Promise<User> {
    const self = actor.requireUser();
    const { count } = await this.db.userBlock.deleteMany({ where: { blockerId: self, blockedId: userId } });
    if (count === 0) throw notFound('Block');
    return this.db.user.findUniqueOrThrow({ where: { id: userId } });
  }

  /** Whom the viewer blocked, most recent first; empty for anyone else's profile. */
  async blockedUsers(actor: Actor, ofUserId: string): Promise<User[]> {
    if (actor.userId !== ofUserId) return [];
    const rows = await this.db.userBlock.findMany({
      where: { blockerId: ofUserId },
      orderBy: [{ createdAt: 'desc' }, { blockedId: 'asc' }],
      include: { blocked: true },
    });
    return rows.map((r) => r.blocked);
  }

  async updatePolicy(actor: Actor, policy: DirectMessagePolicy): Promise<User> {
    const self = actor.requireUser();
    return this.db.user.update({ where: { id: self }, data: { directMessagePolicy: policy } });
  }

  /** The user's own policy; null for anyone else's profile. */
  async policyOf(actor: Actor, user: { id: string; directMessagePolicy?: DirectMessagePolicy }): Promise<DirectMessagePolicy | null> {
    if (actor.userId !== user.id) return null;
    if (user.directMessagePolicy) return user.directMessagePolicy;
    return (await this.db.user.findUniqueOrThrow({ where: { id: user.id }, select: { directMessagePolicy: true } })).directMessagePolicy;
  }

  /**
   * May the actor start a conversation with userId (open a DM, send one, put them in a group
   * chat)? One statement reads the target's policy, both blocks and what they share.
   */
  async assertMayContact(actor: Actor, userId: string): Promise<void> {
    const self = actor.requireUser();
    const [row] = await this.db.$queryRaw<
      { policy: DirectMessagePolicy; blockedByThem: boolean; blockedByMe: boolean; sharesGuild: boolean; sharesChat: boolean }[]
    >`
      SELECT u."directMessagePolicy"::text AS policy,
             EXISTS (SELECT 1 FROM "UserBlock" b WHERE b."blockerId" = u.id AND b."blockedId" = ${self}) AS "blockedByThem",
             EXISTS (SELECT 1 FROM "UserBlock" b WHERE b."blockerId" = ${self} AND b."blockedId" = u.id) AS "blockedByMe",
             EXISTS (SELECT 1 FROM "Member" a JOIN "Member" b ON b."guildId" = a."guildId"
                     WHERE a."userId" = ${self} AND b."userId" = u.id) AS "sharesGuild",
             EXISTS (SELECT 1 FROM "ChannelRecipient" a JOIN "ChannelRecipient" b ON b."channelId" = a."channelId"
                     WHERE a."userId" = ${self} AND b."userId" = u.id) AS "sharesChat"
      FROM "User" u WHERE u.id = ${userId}`;
    if (!row) throw notFound('User');
    if (!row.sharesGuild && !row.sharesChat && row.policy !== 'EVERYONE') throw notFound('User');
    if (row.blockedByMe) throw forbidden('You blocked this user; unblock them to talk to them.');
    if (row.blockedByThem) throw forbidden('This user does not accept direct messages from you.');
    if (row.policy === 'NOBODY') throw forbidden('This user does not accept direct messages.');
    if (row.policy === 'SHARED_GUILDS' && !row.sharesGuild) {
      throw forbidden('This user accepts direct messages only from people in a guild with them.');
    }
  }

  // ---- helpers ----

  /** A group chat the actor is in, or NOT_FOUND (a DM or guild channel is not one). */
  private async requireGroup(actor: Actor, channelId: string): Promise<Channel> {
    const channel = await this.access.requireChannel(actor, channelId);
    if (channel.type !== 'GROUP_DM') throw notFound('Group chat');
    return channel;
  }

  private async isRecipient(channelId: string, userId: string): Promise<boolean> {
    return (await this.db.channelRecipient.count({ where: { channelId, userId } })) > 0;
  }

  /** Removes a recipient and cuts their open subscriptions of the chat on every instance. */
  private async removeRecipient(channelId: string, userId: string): Promise<boolean> {
    const { count } = await this.db.channelRecipient.deleteMany({ where: { channelId, userId } });
    if (count > 0) await this.pubsub.publish('directChannelEvent', channelId, { kind: 'RECIPIENT_REMOVED', channelId, userId });
    return count > 0;
  }
}
