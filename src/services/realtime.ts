// Subscriptions: authorize when they start, keep authorizing while they run (a member who
// loses access stops receiving at once), and resume without gap or duplicate.
import type {
  ChannelActivityPayload,
  GuildEventPayload,
  MessageSnapshot,
  PresencePayload,
  PubSub,
  PublicGuildEvent,
  TopicName,
  TopicPayload,
  Topics,
  TypingPayload,
  Unlisten,
  VoiceEventPayload,
} from '../pubsub/topics.js';
import type { Access } from './access.js';
import type { ActivityService } from './activity.js';
import type { Actor } from './actor.js';
import { idFloorAt } from './ids.js';
import { EventStream } from './streams.js';
import type { MessageService } from './messages.js';

const REPLAY_BATCH = 200;
const CHANNEL_GUILD_CACHE = 10_000;

type Endable = Pick<EventStream<unknown>, 'end' | 'onEnd'>;

export class RealtimeService {
  /** per guild, on its own topic: each member's streams, cut when they leave or are removed
   *  (and all of them when the guild is deleted), and each channel's, cut when it is deleted.
   *  One PubSub channel per guild, rather than one per user, is what an idle socket costs. */
  private readonly guildWatch: SharedWatch<'guildEvent'>;

  /** per DM or group chat, on its own topic: each recipient's streams, cut when they leave
   *  or are removed */
  private readonly directWatch: SharedWatch<'directChannelEvent'>;

  /** channel → its guild (null: a DM or group chat), which never changes */
  private readonly channelGuilds = new Map<string, string | null>();
  /** open messageAdded streams, for catching up after the PubSub lost its connection */
  private readonly feeds = new Set<MessageFeed>();
  /** re-checks waiting to start, by question (see coalesced) */
  private readonly pendingChecks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly access: Access,
    private readonly pubsub: PubSub,
    private readonly messages: MessageService,
    private readonly activity: ActivityService,
  ) {
    pubsub.onResume(() => void this.resumeFeeds());
    this.directWatch = new SharedWatch(pubsub, 'directChannelEvent', (e) => `user:${e.userId}`);
    this.guildWatch = new SharedWatch(
      pubsub,
      'guildEvent',
      (e) =>
        e.kind === 'MEMBER_LEFT' ? `user:${e.user.id}` : e.kind === 'CHANNEL_DELETED' ? `channel:${e.channelId}` : e.kind === 'GUILD_DELETED' ? ALL : null,
      (e, streams) => {
        if (e.kind === 'CHANNEL_ACCESS_CHANGED') this.recheckViews(e, streams);
      },
    );
  }

  /**
   * Every message sent to the channel from now on; with `sinceId`, first every stored
   * message after it, then live, with no gap and no duplicate even when sends race the replay.
   */
  messageAdded(actor: Actor, channelId: string, sinceId: string | null): Promise<EventStream<MessageSnapshot>> {
    return this.channelStream(actor, channelId, async (stream) => {
      const feed = new MessageFeed(stream, channelId, sinceId ?? idFloorAt(Date.now()));
      // Listen first and hold live events back, then replay from the database: no gap, and
      // the replayed ids keep a message that arrives both ways from being delivered twice.
      if (sinceId) feed.hold();
      const unlisten = await this.pubsub.listen('messageAdded', channelId, (m) => feed.live(m));
      this.feeds.add(feed);
      stream.onEnd(() => {
        this.feeds.delete(feed);
        return unlisten();
      });
      if (sinceId) await this.catchUp(channelId, [feed]);
    });
  }

  /**
   * The PubSub lost its connection and has it back: messages published meanwhile never
   * arrived. Every open messageAdded stream replays them from the database, one query per
   * channel, as a resume with `since` would.
   */
  private async resumeFeeds(): Promise<void> {
    const byChannel = new Map<string, MessageFeed[]>();
    for (const feed of this.feeds) {
      const list = byChannel.get(feed.channelId);
      if (list) list.push(feed);
      else byChannel.set(feed.channelId, [feed]);
    }
    for (const [channelId, feeds] of byChannel) {
      for (const feed of feeds) feed.hold();
      await this.catchUp(channelId, feeds).catch(() => {
        // the database is away too: what was held is delivered, the rest on the next resume
        for (const feed of feeds) feed.release([]);
      });
    }
  }

  /** Replays the channel's messages after the feeds' cursors, then releases what they held. */
  private async catchUp(channelId: string, feeds: MessageFeed[]): Promise<void> {
    let cursor = feeds.reduce((min, f) => (f.cursor < min ? f.cursor : min), feeds[0]!.cursor);
    const replayed: MessageSnapshot[] = [];
    for (;;) {
      const batch = await this.messages.snapshotsAfter(channelId, cursor, REPLAY_BATCH);
      replayed.push(...batch);
      if (batch.length < REPLAY_BATCH || feeds.every((f) => f.ended)) break;
      cursor = batch[batch.length - 1]!.id;
    }
    for (const feed of feeds) feed.release(replayed);
  }

  messageUpdated(actor: Actor, channelId: string) {
    return this.relay(actor, channelId, 'messageUpdated');
  }

  messageDeleted(actor: Actor, channelId: string) {
    return this.relay(actor, channelId, 'messageDeleted');
  }

  /**
   * Others' typing in the channel (never the subscriber's own). An indicator whose expiry
   * passes without a refresh ends here with isTyping:false, wherever its typist was.
   */
  typing(actor: Actor, channelId: string): Promise<EventStream<TypingPayload>> {
    const self = actor.requireUser();
    return this.channelStream<TypingPayload>(actor, channelId, async (stream) => {
      const expiries = new Map<string, NodeJS.Timeout>();
      stream.onEnd(() => {
        for (const timer of expiries.values()) clearTimeout(timer);
      });
      stream.onEnd(
        await this.pubsub.listen('typing', channelId, (event) => {
          if (event.user.id === self) return;
          clearTimeout(expiries.get(event.user.id));
          expiries.delete(event.user.id);
          if (event.isTyping && event.expiresAt) {
            const ms = Math.max(0, Date.parse(event.expiresAt) - Date.now());
            const timer = setTimeout(() => {
              expiries.delete(event.user.id);
              stream.push({ ...event, isTyping: false, expiresAt: null });
            }, ms);
            expiries.set(event.user.id, timer);
          }
          stream.push(event);
        }),
      );
    });
  }

  /**
   * Holds the channel open for the viewer while it lives (who is here): first the list of
   * members with it open (the viewer among them), then every arrival and departure. It ends,
   * and the viewer leaves, when they lose access to the channel.
   */
  channelActivity(actor: Actor, channelId: string): Promise<EventStream<ChannelActivityPayload>> {
    const userId = actor.requireUser();
    return this.channelStream<ChannelActivityPayload>(actor, channelId, async (stream) => {
      // An event whose news the subscriber's last list already shows (their own arrival,
      // published while the first list was read) is not delivered: each event says something.
      let shown: Set<string> | null = null;
      const deliver = (e: ChannelActivityPayload) => {
        if (shown && e.joined.every((u) => shown!.has(u.id)) && e.left.every((u) => !shown!.has(u.id))) return;
        shown = new Set(e.users.map((u) => u.id));
        stream.push(e);
      };
      // live events wait behind the list, which is what a subscriber starts from
      let held: ChannelActivityPayload[] | null = [];
      stream.onEnd(await this.pubsub.listen('channelActivity', channelId, (e) => (held ? held.push(e) : deliver(e))));
      const holdId = await this.activity.enter(channelId, userId);
      stream.onEnd(() => this.activity.leave(holdId));
      deliver(await this.activity.current(channelId));
      for (const event of held) deliver(event);
      held = null;
    });
  }

  /** Presence changes of the guild's members. */
  presence(actor: Actor, guildId: string): Promise<EventStream<PresencePayload>> {
    return this.memberStream<PresencePayload>(actor, guildId, 'Guild', async (stream) => {
      stream.onEnd(await this.pubsub.listen('presence', guildId, (e) => stream.push(e)));
    });
  }

  /** What happens to the guild: members joining and leaving, channels, settings, deletion
   *  (delivered, then the subscription completes). A channel the subscriber may not view is
   *  not among them: the events of a channel with overwrites wait for a check of their view,
   *  and the events behind them wait too, so that the order stays the order of publication. */
  guildEvents(actor: Actor, guildId: string): Promise<EventStream<PublicGuildEvent>> {
    const userId = actor.requireUser();
    return this.memberStream<PublicGuildEvent>(actor, guildId, 'Guild', async (stream) => {
      let pending = 0;
      let queue: Promise<void> = Promise.resolve();
      const deliver = (e: PublicGuildEvent) => {
        stream.push(e);
        if (e.kind === 'GUILD_DELETED') stream.finish();
      };
      stream.onEnd(
        await this.pubsub.listen('guildEvent', guildId, (e) => {
          if (e.kind === 'CHANNEL_ACCESS_CHANGED') return;
          const restricted = (e.kind === 'CHANNEL_CREATED' || e.kind === 'CHANNEL_UPDATED') && e.restricted;
          if (!restricted && pending === 0) return deliver(e);
          pending += 1;
          queue = queue
            .then(async () => {
              if (!restricted || (await this.access.usersWhoCannotView(e.channel.id, [userId])).length === 0) deliver(e);
            })
            // the check failed: the event is withheld, as from someone who may not see it
            .catch(() => {})
            .finally(() => {
              pending -= 1;
            });
        }),
      );
    });
  }

  /** Voice joins, leaves, moves, mutes and speaking in the guild's voice channels the
   *  subscriber may view. Events of a channel with overwrites wait for a check of the view,
   *  and those behind them wait too, so the order stays the order of publication. */
  voiceStates(actor: Actor, guildId: string): Promise<EventStream<VoiceEventPayload>> {
    const userId = actor.requireUser();
    return this.memberStream<VoiceEventPayload>(actor, guildId, 'Guild', async (stream) => {
      let pending = 0;
      let queue: Promise<void> = Promise.resolve();
      stream.onEnd(
        await this.pubsub.listen('voiceEvent', guildId, (e) => {
          const restricted = e.restricted || (e.previousChannelId !== null && e.kind === 'MOVED');
          if (!restricted && pending === 0) return stream.push(e);
          pending += 1;
          queue = queue
            .then(async () => {
              if (!restricted || (await this.access.usersWhoCannotView(e.state.channel.id, [userId])).length === 0) stream.push(e);
            })
            .catch(() => {})
            .finally(() => {
              pending -= 1;
            });
        }),
      );
    });
  }

  /** Messages that mention the viewer, in any guild they belong to. */
  async mentions(actor: Actor): Promise<EventStream<MessageSnapshot>> {
    const userId = actor.requireUser();
    const stream = new EventStream<MessageSnapshot>();
    stream.onEnd(
      await this.pubsub.listen('userEvent', userId, (e) => {
        if (e.kind === 'MENTIONED') stream.push(e.message);
      }),
    );
    return stream;
  }

  private relay<T extends 'messageUpdated' | 'messageDeleted'>(actor: Actor, channelId: string, topic: T) {
    return this.channelStream<TopicPayload<T>>(actor, channelId, async (stream) => {
      stream.onEnd(await this.pubsub.listen(topic, channelId as Topics[T][0], (e) => stream.push(e)));
    });
  }

  /**
   * Who may view channels changed: of the open channel streams the event concerns, those
   * whose user may no longer view their channel end at once. One query per channel for all
   * its subscribers on this instance; when it fails the streams end too (the subscriber
   * subscribes again and is checked then), rather than keep delivering unchecked.
   */
  private recheckViews(e: Extract<GuildEventPayload, { kind: 'CHANNEL_ACCESS_CHANGED' }>, streams: ReadonlyMap<string, Set<Endable>>) {
    const usersByChannel = new Map<string, string[]>();
    for (const subKey of streams.keys()) {
      const [prefix, channelId, userId] = subKey.split(':');
      if (prefix !== 'view' || !channelId || !userId) continue;
      if ((e.channelId && channelId !== e.channelId) || (e.userId && userId !== e.userId)) continue;
      const users = usersByChannel.get(channelId);
      if (users) users.push(userId);
      else usersByChannel.set(channelId, [userId]);
    }
    const cut = (channelId: string, userIds: readonly string[]) => {
      for (const userId of userIds) for (const s of [...(streams.get(viewKey(channelId, userId)) ?? [])]) s.end();
    };
    for (const [channelId, userIds] of usersByChannel) {
      void this.access.usersWhoCannotView(channelId, userIds).then(
        (lost) => cut(channelId, lost),
        () => cut(channelId, userIds),
      );
    }
  }

  /**
   * A stream for a member of the guild, cut when they lose access: leaving, being kicked or
   * banned, and the guild's deletion each revoke every affected member. Access is checked,
   * then the revocation watch starts, then access is checked again, so a removal between
   * the two cannot slip by.
   */
  async memberStream<T>(
    actor: Actor,
    guildId: string,
    what: 'Guild' | 'Channel',
    feed: (stream: EventStream<T>) => Promise<void>,
  ): Promise<EventStream<T>> {
    const userId = actor.requireUser();
    await this.access.requireMember(actor, guildId, what);
    const stream = new EventStream<T>();
    try {
      await this.guildWatch.watch(guildId, [`user:${userId}`], stream);
      actor.forgetMemberships(guildId);
      await this.coalesced(`member:${userId}:${guildId}`, () => this.access.requireMember(actor, guildId, what));
      await feed(stream);
      // what the checks cached would only go stale while the stream lives: re-checks read anew
      actor.forgetMemberships();
      return stream;
    } catch (err) {
      stream.end();
      throw err;
    }
  }

  /**
   * One query for the same access question asked by streams that start together (a client
   * opening thousands of subscriptions on one socket asked it once per subscription, and the
   * queries queued past the pool's timeout). The shared query starts once the microtasks
   * already queued have run (the streams resuming together), and a stream joins only one not
   * yet started: each joiner's watches were live before it, so a removal before the query is
   * seen by it and one after by the watches. (Deferring to the next turn of the event loop
   * shared more, but delayed every subscription's start by tens of milliseconds.)
   */
  private coalesced<T>(question: string, check: () => Promise<T>): Promise<T> {
    let pending = this.pendingChecks.get(question) as Promise<T> | undefined;
    if (!pending) {
      pending = new Promise<T>((resolve, reject) => {
        // after the microtasks already queued: the other streams resuming from the same watch
        queueMicrotask(() => {
          this.pendingChecks.delete(question);
          check().then(resolve, reject);
        });
      });
      this.pendingChecks.set(question, pending);
    }
    return pending;
  }

  /**
   * A member stream of one channel, also cut when the channel is deleted. The revocation and
   * deletion watches start first, then one query checks channel and membership: a removal
   * before the check is seen by it, one after by the watches. A DM or group chat is watched on
   * its own topic instead, for its recipients leaving or being removed. A channel's guild never
   * changes, so it is looked up once per instance (subscribing again costs that one query).
   */
  async channelStream<T>(
    actor: Actor,
    channelId: string,
    feed: (stream: EventStream<T>) => Promise<void>,
  ): Promise<EventStream<T>> {
    const userId = actor.requireUser();
    let guildId = this.channelGuilds.get(channelId);
    if (guildId === undefined) {
      guildId = (await this.access.requireChannel(actor, channelId)).guildId;
      this.channelGuilds.set(channelId, guildId);
      if (this.channelGuilds.size > CHANNEL_GUILD_CACHE) this.channelGuilds.delete(this.channelGuilds.keys().next().value as string);
    }
    const stream = new EventStream<T>();
    try {
      await (guildId === null
        ? // a DM or group chat: cut when the user is removed from it or leaves
          this.directWatch.watch(channelId, [`user:${userId}`], stream)
        : this.guildWatch.watch(guildId, [`user:${userId}`, `channel:${channelId}`, viewKey(channelId, userId)], stream));
      if (guildId !== null) actor.forgetMemberships(guildId);
      await this.coalesced(`channel:${userId}:${channelId}`, () => this.access.requireChannel(actor, channelId));
      await feed(stream);
      actor.forgetMemberships();
      return stream;
    } catch (err) {
      stream.end();
      throw err;
    }
  }
}

/** The watch key of one user's streams of one channel, re-checked when access changes. */
const viewKey = (channelId: string, userId: string) => `view:${channelId}:${userId}`;

/**
 * One messageAdded stream's position: what it delivered last, and, while it catches up from
 * the database, the live events it holds back until the replay is delivered.
 */
class MessageFeed {
  /** newest message id delivered (or the subscription's starting point) */
  cursor: string;
  private held: MessageSnapshot[] | null = null;
  /** ids delivered by a replay, which may still arrive live afterwards */
  private replayed: Set<string> | null = null;

  constructor(
    private readonly stream: EventStream<MessageSnapshot>,
    readonly channelId: string,
    start: string,
  ) {
    this.cursor = start;
  }

  get ended(): boolean {
    return this.stream.ended;
  }

  live(m: MessageSnapshot): void {
    if (this.held) this.held.push(m);
    else if (!this.replayed?.has(m.id)) this.deliver(m);
  }

  hold(): void {
    this.held ??= [];
  }

  /** Delivers the replayed messages beyond this feed's cursor, then what was held meanwhile. */
  release(replayed: readonly MessageSnapshot[]): void {
    const from = this.cursor;
    const fresh = replayed.filter((m) => m.id > from);
    if (fresh.length) {
      this.replayed = new Set(fresh.map((m) => m.id));
      for (const m of fresh) this.deliver(m);
    }
    const held = this.held ?? [];
    this.held = null;
    for (const m of held) if (m.id > from && !this.replayed?.has(m.id)) this.deliver(m);
  }

  private deliver(m: MessageSnapshot): void {
    if (m.id > this.cursor) this.cursor = m.id;
    this.stream.push(m);
  }
}

/**
 * Ends streams when an event of one topic key says they are gone: one PubSub listener per
 * key (a user, a guild) shared by every stream it watches, rather than one per stream, which
 * is memory every open subscription would pay.
 */
const ALL = Symbol('every stream of the key');

class SharedWatch<T extends TopicName> {
  private readonly keys = new Map<string, { ready: Promise<Unlisten>; streams: Map<string, Set<Endable>> }>();

  constructor(
    private readonly pubsub: PubSub,
    private readonly topic: T,
    /** what an event ends: the sub-key of the streams it cuts, ALL, or null */
    private readonly ends: (event: TopicPayload<T>) => string | typeof ALL | null,
    /** told of the events that end nothing by themselves, with the key's streams by sub-key */
    private readonly inspect?: (event: TopicPayload<T>, streams: ReadonlyMap<string, Set<Endable>>) => void,
  ) {}

  /** Watches `stream` under key and each sub-key; resolves once the watch is live. One
   *  cleanup for all its sub-keys: every live subscription holds it. */
  async watch(key: Topics[T][0], subKeys: readonly string[], stream: Endable): Promise<void> {
    let entry = this.keys.get(key);
    if (!entry) {
      const streams = new Map<string, Set<Endable>>();
      const ready = this.pubsub.listen(this.topic, key, (event) => {
        const gone = this.ends(event);
        if (gone === null) return this.inspect?.(event, streams);
        if (gone !== ALL) {
          // at once: this listener was there before any stream's own, so a member who left
          // gets nothing more, not even the news of their leaving
          for (const s of [...(streams.get(gone) ?? [])]) s.end();
          return;
        }
        // the guild is gone: after this event's other listeners, so that a guildEvents stream
        // delivers the deletion before it is cut (it completes by itself)
        const cut = [...streams.values()].flatMap((set) => [...set]);
        setImmediate(() => cut.forEach((s) => s.end()));
      });
      const created = { ready, streams };
      entry = created;
      this.keys.set(key, created);
      ready.catch(() => {
        if (this.keys.get(key) === created) this.keys.delete(key);
      });
    }
    for (const subKey of subKeys) {
      let set = entry.streams.get(subKey);
      if (!set) entry.streams.set(subKey, (set = new Set()));
      set.add(stream);
    }
    const watched = entry;
    stream.onEnd(() => {
      for (const subKey of subKeys) this.unwatch(key, watched, subKey, stream);
    });
    await watched.ready;
  }

  private unwatch(key: string, entry: { ready: Promise<Unlisten>; streams: Map<string, Set<Endable>> }, subKey: string, stream: Endable) {
    const set = entry.streams.get(subKey);
    set?.delete(stream);
    if (set?.size === 0) entry.streams.delete(subKey);
    if (entry.streams.size > 0 || this.keys.get(key) !== entry) return;
    this.keys.delete(key);
    void entry.ready.then((unlisten) => unlisten()).catch(() => {});
  }
}
