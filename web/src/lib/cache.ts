// The normalized cache (graphcache): how entities are keyed, how message pages merge, and how
// every mutation result and subscription event changes what the screens show. Server state
// lives here and nowhere else; components read it through their queries and fragments.
import type { Client } from '@urql/core';
import type { Cache, CacheExchangeOpts, Data, Variables } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { graphql } from '../gql';

/** Messages per history page; the newest page is `messages(first: MESSAGE_PAGE_SIZE)`. */
export const MESSAGE_PAGE_SIZE = 50;

/** The id a pending send is shown with (`pending:<nonce>`, lib/sends.ts) until the server's copy replaces it. */
export const PENDING_PREFIX = 'pending:';
export const isPendingId = (id: string) => id.startsWith(PENDING_PREFIX);

const NewestMessage = graphql(`
  query ResumeNewestMessage($channelId: ID!, $first: Int!) {
    channel(id: $channelId) {
      id
      messages(first: $first) {
        edges {
          cursor
          node {
            id
          }
        }
      }
    }
  }
`);

/**
 * The cursor of the newest confirmed message the cache holds for a channel: where a resumed
 * messageAdded starts (`since`). Read as MessageList reads its newest page, since graphcache
 * (without a schema) answers only a page field it holds; relayPagination merges the others in.
 */
export function newestMessageCursor(client: Client, channelId: string): string | null {
  const data = client.readQuery(NewestMessage, { channelId, first: MESSAGE_PAGE_SIZE })?.data;
  return data?.channel?.messages.edges.find((edge) => !isPendingId(edge.node.id))?.cursor ?? null;
}

/** Whether the channel's cached pages hold the message (so its list shows it at the next render). */
export function cacheHoldsMessage(client: Client, channelId: string, messageId: string): boolean {
  const data = client.readQuery(NewestMessage, { channelId, first: MESSAGE_PAGE_SIZE })?.data;
  return data?.channel?.messages.edges.some((edge) => edge.node.id === messageId) ?? false;
}

const NewMessageEdge = graphql(`
  fragment CacheMessageEdge on MessageEdge {
    cursor
    node {
      id
    }
  }
`);

const UserStatus = graphql(`
  fragment CacheUserStatus on User {
    id
    status
  }
`);

const MessageReactions = graphql(`
  fragment CacheMessageReactions on Message {
    id
    reactions {
      emoji
      count
      viewerReacted
    }
  }
`);

interface Entity {
  __typename?: string;
  id?: string;
}

interface GuildEventData {
  __typename: string;
  guildId?: string;
  channelId?: string;
  channel?: Entity & { guild?: Entity };
  user?: Entity;
  guild?: Entity;
}

/** A key for an object that has one, or null. */
const key = (cache: Cache, typename: string, id: string | null | undefined) =>
  id ? cache.keyOfEntity({ __typename: typename, id }) : null;

/** Every cached variant (argument set) of a field, e.g. each page of Channel.messages. */
function fieldsNamed(cache: Cache, entityKey: string, fieldName: string) {
  return cache.inspectFields(entityKey).filter((field) => field.fieldName === fieldName);
}

function invalidateField(cache: Cache, entityKey: string | null, fieldName: string) {
  if (!entityKey) return;
  for (const field of fieldsNamed(cache, entityKey, fieldName)) cache.invalidate(entityKey, field.fieldKey);
}

/**
 * Puts a new message at the head of the channel's newest page, unless it is already held
 * (a subscription event for a message the send's own response already added, or a replay).
 * Older pages (`after:`) are merged behind it by relayPagination, which drops duplicates.
 */
export function prependMessage(cache: Cache, channelId: string, message: Entity): void {
  const channelKey = key(cache, 'Channel', channelId);
  const messageKey = cache.keyOfEntity(message as Data);
  if (!channelKey || !messageKey || !message.id) return;
  for (const field of fieldsNamed(cache, channelKey, 'messages')) {
    const args = field.arguments ?? {};
    if (args.after != null || args.before != null) continue;
    const connection = cache.resolve(channelKey, field.fieldKey) as string | null;
    if (!connection) continue;
    if (holdsMessage(cache, channelKey, messageKey)) continue;
    const edges = (cache.resolve(connection, 'edges') as string[] | null) ?? [];
    cache.writeFragment(NewMessageEdge, {
      __typename: 'MessageEdge',
      cursor: message.id,
      node: { __typename: 'Message', id: message.id },
    });
    const edgeKey = cache.keyOfEntity({ __typename: 'MessageEdge', node: { id: message.id } } as Data);
    if (edgeKey) cache.link(connection, 'edges', [edgeKey, ...edges]);
  }
}

/** Whether any cached page of the channel holds the message. */
function holdsMessage(cache: Cache, channelKey: string, messageKey: string): boolean {
  for (const field of fieldsNamed(cache, channelKey, 'messages')) {
    const connection = cache.resolve(channelKey, field.fieldKey) as string | null;
    const edges = connection ? ((cache.resolve(connection, 'edges') as string[] | null) ?? []) : [];
    if (edges.some((edge) => cache.resolve(edge, 'node') === messageKey)) return true;
  }
  return false;
}

/** Takes a deleted message out of every cached page of its channel. */
export function removeMessage(cache: Cache, channelId: string, messageId: string): void {
  const channelKey = key(cache, 'Channel', channelId);
  const messageKey = key(cache, 'Message', messageId);
  if (!channelKey || !messageKey) return;
  for (const field of fieldsNamed(cache, channelKey, 'messages')) {
    const connection = cache.resolve(channelKey, field.fieldKey) as string | null;
    if (!connection) continue;
    const edges = (cache.resolve(connection, 'edges') as string[] | null) ?? [];
    const kept = edges.filter((edge) => cache.resolve(edge, 'node') !== messageKey);
    if (kept.length !== edges.length) cache.link(connection, 'edges', kept);
  }
}

function viewerKey(cache: Cache): string | null {
  return (cache.resolve('Query', 'viewer') as string | null) ?? null;
}

function sortChannels(cache: Cache, keys: string[]): string[] {
  return [...keys].sort(
    (a, b) => ((cache.resolve(a, 'position') as number) ?? 0) - ((cache.resolve(b, 'position') as number) ?? 0),
  );
}

export function applyGuildEvent(cache: Cache, guildId: string, event: GuildEventData): void {
  const guildKey = key(cache, 'Guild', guildId);
  if (!guildKey) return;
  const channels = cache.resolve(guildKey, 'channels') as string[] | null;
  switch (event.__typename) {
    case 'ChannelCreatedEvent': {
      const channelKey = event.channel ? cache.keyOfEntity(event.channel as Data) : null;
      if (channels && channelKey && !channels.includes(channelKey)) {
        cache.link(guildKey, 'channels', sortChannels(cache, [...channels, channelKey]));
      }
      break;
    }
    case 'ChannelUpdatedEvent':
      // a move shifts the others' positions too: read the order again
      cache.invalidate(guildKey, 'channels');
      break;
    case 'ChannelDeletedEvent': {
      const channelKey = key(cache, 'Channel', event.channelId);
      if (channels && channelKey) cache.link(guildKey, 'channels', channels.filter((k) => k !== channelKey));
      break;
    }
    case 'MemberJoinedEvent':
    case 'MemberLeftEvent': {
      const userKey = event.user ? cache.keyOfEntity(event.user as Data) : null;
      if (event.__typename === 'MemberLeftEvent' && userKey && userKey === viewerKey(cache)) {
        removeGuild(cache, guildId);
        break;
      }
      invalidateField(cache, guildKey, 'members');
      cache.invalidate(guildKey, 'memberCount');
      if (event.__typename === 'MemberLeftEvent') {
        const online = cache.resolve(guildKey, 'onlineMembers') as string[] | null;
        if (online && userKey) cache.link(guildKey, 'onlineMembers', online.filter((k) => k !== userKey));
      }
      break;
    }
    case 'GuildDeletedEvent':
      removeGuild(cache, guildId);
      break;
    default:
      // GuildUpdatedEvent: the guild entity in the event updates itself
      break;
  }
}

/** The viewer no longer belongs to the guild: drop it and let the guild list refetch. */
export function removeGuild(cache: Cache, guildId: string): void {
  const guildKey = key(cache, 'Guild', guildId);
  if (guildKey) cache.invalidate(guildKey);
  invalidateField(cache, 'Query', 'guilds');
}

function applyPresence(cache: Cache, guildId: string, userId: string, status: string): void {
  cache.writeFragment(UserStatus, { __typename: 'User', id: userId, status: status as never });
  const guildKey = key(cache, 'Guild', guildId);
  const userKey = key(cache, 'User', userId);
  if (!guildKey || !userKey) return;
  const online = cache.resolve(guildKey, 'onlineMembers') as string[] | null;
  if (!online) return;
  const others = online.filter((k) => k !== userKey);
  cache.link(guildKey, 'onlineMembers', status === 'OFFLINE' ? others : [...others, userKey]);
}

function applyTyping(cache: Cache, channelId: string, userKey: string | null, isTyping: boolean): void {
  const channelKey = key(cache, 'Channel', channelId);
  if (!channelKey || !userKey) return;
  const current = cache.resolve(channelKey, 'typingUsers') as string[] | null;
  if (!current) return;
  const others = current.filter((k) => k !== userKey);
  cache.link(channelKey, 'typingUsers', isTyping ? [...others, userKey] : others);
}

interface VoiceEventData {
  kind: 'JOINED' | 'LEFT' | 'MOVED' | 'UPDATED' | 'SPEAKING';
  previousChannelId?: string | null;
  state: Entity & { user?: Entity; channel?: Entity };
}

/**
 * Keeps each voice channel's `voiceStates` list in step with a `voiceStates(guildId)` event. A
 * voice state is keyed by its user (one per user, see `keys`), so its fields update themselves;
 * this moves it between the guild's channel lists: out of every list on LEFT, into its channel's
 * (and out of the others) on any other kind, so a missed JOINED is made good by the next event.
 */
export function applyVoiceEvent(cache: Cache, guildId: string, event: VoiceEventData): void {
  const stateKey = cache.keyOfEntity(event.state as Data);
  const channelKey = key(cache, 'Channel', event.state.channel?.id);
  const guildKey = key(cache, 'Guild', guildId);
  if (!stateKey) return;
  const channelKeys = new Set((guildKey ? (cache.resolve(guildKey, 'channels') as string[] | null) : null) ?? []);
  if (channelKey) channelKeys.add(channelKey);
  const previousKey = key(cache, 'Channel', event.previousChannelId);
  if (previousKey) channelKeys.add(previousKey);
  for (const k of channelKeys) {
    const list = cache.resolve(k, 'voiceStates') as string[] | null;
    if (!list) continue;
    const others = list.filter((s) => s !== stateKey);
    const belongs = event.kind !== 'LEFT' && k === channelKey;
    if (belongs && others.length === list.length) cache.link(k, 'voiceStates', [...others, stateKey]);
    else if (!belongs && others.length !== list.length) cache.link(k, 'voiceStates', others);
  }
}

type Args = Variables & Record<string, unknown>;
const str = (value: unknown) => (typeof value === 'string' ? value : '');

export const cacheConfig: CacheExchangeOpts = {
  keys: {
    // Edges of a message page are keyed by their message: one edge per message, whichever
    // page holds it, so a live message and a page fetched later cannot show it twice.
    MessageEdge: (data) => ((data.node as Entity | null)?.id ?? null) as string | null,
    Invite: (data) => (data.code as string | undefined) ?? null,
    AuthPayload: () => null,
    PageInfo: () => null,
    ReactionGroup: () => null,
    UnreadSummary: () => null,
    Member: () => null,
    MemberEdge: () => null,
    MemberConnection: () => null,
    MessageConnection: () => null,
    GuildEdge: () => null,
    GuildConnection: () => null,
    UserEdge: () => null,
    UserConnection: () => null,
    DeletedMessage: () => null,
    TypingEvent: () => null,
    PresenceEvent: () => null,
    ChannelCreatedEvent: () => null,
    ChannelUpdatedEvent: () => null,
    ChannelDeletedEvent: () => null,
    MemberJoinedEvent: () => null,
    MemberLeftEvent: () => null,
    GuildUpdatedEvent: () => null,
    GuildDeletedEvent: () => null,
    // one voice state per user (a user is in at most one voice channel)
    VoiceState: (data) => ((data.user as Entity | null)?.id ?? null) as string | null,
    VoiceStateEvent: () => null,
    VoiceSession: () => null,
    IceServer: () => null,
    VoiceOffer: () => null,
    VoiceClosed: () => null,
  },
  resolvers: {
    // Pages of history (`after:`) and catch-up pages (`before:`) read as one list.
    Channel: { messages: relayPagination() },
  },
  updates: {
    Subscription: {
      messageAdded(result, args, cache) {
        const message = result.messageAdded as Entity | null;
        if (message) prependMessage(cache, str(args.channelId), message);
      },
      messageDeleted(result, args, cache) {
        const deleted = result.messageDeleted as { id: string } | null;
        if (deleted) removeMessage(cache, str(args.channelId), deleted.id);
      },
      typing(result, args, cache) {
        const event = result.typing as { isTyping: boolean; user: Entity } | null;
        if (event) applyTyping(cache, str(args.channelId), cache.keyOfEntity(event.user as Data), event.isTyping);
      },
      presence(result, args, cache) {
        const event = result.presence as { status: string; user: Entity } | null;
        if (event?.user.id) applyPresence(cache, str(args.guildId), event.user.id, event.status);
      },
      guildEvents(result, args, cache) {
        const event = result.guildEvents as GuildEventData | null;
        if (event) applyGuildEvent(cache, str(args.guildId), event);
      },
      voiceStates(result, args, cache) {
        const event = result.voiceStates as VoiceEventData | null;
        if (event?.state) applyVoiceEvent(cache, str(args.guildId), event);
      },
      mentionAdded(result, _args, cache) {
        const message = result.mentionAdded as { channel?: { id: string; guild?: Entity } } | null;
        const guildKey = key(cache, 'Guild', message?.channel?.guild?.id);
        if (guildKey) cache.invalidate(guildKey, 'viewerUnread');
      },
    },
    Mutation: {
      sendMessage(result, args, cache) {
        // The server's copy, once: its messageAdded event may have put it in already (both are
        // deduped by id in prependMessage). The pending message is not in the cache: it is
        // shown from lib/sends.ts until the list holds the message with its nonce.
        const message = result.sendMessage as Entity | null;
        const input = args.input as { channelId?: string } | undefined;
        if (message && input?.channelId) prependMessage(cache, input.channelId, message);
      },
      deleteMessage(result, args, cache) {
        const id = result.deleteMessage as string | null;
        const messageKey = key(cache, 'Message', id ?? str(args.id));
        const channelKey = messageKey ? (cache.resolve(messageKey, 'channel') as string | null) : null;
        const channelId = channelKey ? (cache.resolve(channelKey, 'id') as string | null) : null;
        if (id && channelId) removeMessage(cache, channelId, id);
      },
      createGuild(_result, _args, cache) {
        invalidateField(cache, 'Query', 'guilds');
      },
      joinGuild(_result, _args, cache) {
        invalidateField(cache, 'Query', 'guilds');
      },
      joinPublicGuild(_result, _args, cache) {
        invalidateField(cache, 'Query', 'guilds');
      },
      leaveGuild(_result, args, cache) {
        removeGuild(cache, str(args.guildId));
      },
      deleteGuild(_result, args, cache) {
        removeGuild(cache, str(args.id));
      },
      createChannel(result, args, cache) {
        const channel = result.createChannel as Entity | null;
        const input = args.input as { guildId?: string } | undefined;
        if (channel && input?.guildId) {
          applyGuildEvent(cache, input.guildId, { __typename: 'ChannelCreatedEvent', channel });
        }
      },
      updateChannel(result, _args, cache) {
        const channel = result.updateChannel as (Entity & { guild?: Entity }) | null;
        if (channel?.guild?.id) applyGuildEvent(cache, channel.guild.id, { __typename: 'ChannelUpdatedEvent' });
      },
      deleteChannel(result, args, cache) {
        const channelKey = key(cache, 'Channel', str(args.id));
        const guildKey = channelKey ? (cache.resolve(channelKey, 'guild') as string | null) : null;
        const guildId = guildKey ? (cache.resolve(guildKey, 'id') as string | null) : null;
        if (guildId) applyGuildEvent(cache, guildId, { __typename: 'ChannelDeletedEvent', channelId: str(result.deleteChannel) });
      },
      createRole(_result, args, cache) {
        const input = args.input as { guildId?: string } | undefined;
        const guildKey = key(cache, 'Guild', input?.guildId);
        if (guildKey) cache.invalidate(guildKey, 'roles');
      },
      assignRole(_result, args, cache) {
        invalidateField(cache, key(cache, 'Guild', str(args.guildId)), 'members');
        cache.invalidate(key(cache, 'Guild', str(args.guildId)) ?? '', 'viewerPermissions');
      },
      unassignRole(_result, args, cache) {
        invalidateField(cache, key(cache, 'Guild', str(args.guildId)), 'members');
        cache.invalidate(key(cache, 'Guild', str(args.guildId)) ?? '', 'viewerPermissions');
      },
      kickMember(_result, args, cache) {
        applyGuildEvent(cache, str(args.guildId), { __typename: 'MemberLeftEvent', user: { __typename: 'User', id: str(args.userId) } });
      },
      banMember(_result, args, cache) {
        applyGuildEvent(cache, str(args.guildId), { __typename: 'MemberLeftEvent', user: { __typename: 'User', id: str(args.userId) } });
      },
      moveVoiceMember(result, args, cache) {
        const state = result.moveVoiceMember as VoiceEventData['state'] | null;
        if (state) applyVoiceEvent(cache, str(args.guildId), { kind: 'MOVED', state });
      },
      markChannelRead(result, _args, cache) {
        const channel = result.markChannelRead as { guild?: Entity } | null;
        const guildKey = key(cache, 'Guild', channel?.guild?.id);
        if (guildKey) cache.invalidate(guildKey, 'viewerUnread');
      },
    },
  },
  optimistic: {
    addReaction(args: Args, cache) {
      return toggledReactions(cache, str(args.messageId), str(args.emoji), true);
    },
    removeReaction(args: Args, cache) {
      return toggledReactions(cache, str(args.messageId), str(args.emoji), false);
    },
  },
};

/** The message's reactions as they will be once the viewer's reaction is added or removed. */
export function toggledReactions(cache: Cache, messageId: string, emoji: string, add: boolean): Data | null {
  const current = cache.readFragment(MessageReactions, { __typename: 'Message', id: messageId });
  if (!current) return null;
  const groups = current.reactions.map((group) => ({ ...group }));
  const group = groups.find((g) => g.emoji === emoji);
  if (add && !group) groups.push({ __typename: 'ReactionGroup', emoji, count: 1, viewerReacted: true });
  else if (group && group.viewerReacted !== add) {
    group.count += add ? 1 : -1;
    group.viewerReacted = add;
  }
  return {
    __typename: 'Message',
    id: messageId,
    reactions: groups.filter((g) => g.count > 0),
  } as Data;
}
