// A channel's history: newest at the bottom, older pages loaded as you scroll up (the scroll
// position is kept, so nothing jumps), live messages appended, an unread marker, and the
// read marker moved forward as messages are seen.
import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery, useSubscription } from 'urql';
import { type FragmentType, getFragmentData, graphql, makeFragmentData } from '../../gql';
import { MESSAGE_PAGE_SIZE, PENDING_PREFIX, isPendingId } from '../../lib/cache';
import { describeError } from '../../lib/errors';
import type { MentionUser } from '../../lib/mentions';
import { dayLabel } from '../../lib/time';
import { useNotices } from '../../ui/notices';
import { type PendingSend, confirmedNonces, unconfirmedSends } from '../../lib/sends';
import { MessageItem, MessageItemFragment } from './MessageItem';

export const PAGE_SIZE = MESSAGE_PAGE_SIZE;

export const ChannelMessages = graphql(`
  query ChannelMessages($channelId: ID!, $first: Int!, $after: String) {
    channel(id: $channelId) {
      id
      messages(first: $first, after: $after) {
        edges {
          cursor
          node {
            id
            nonce
            createdAt
            author {
              id
            }
            replyTo {
              id
            }
            ...MessageItem_message
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const MessageAdded = graphql(`
  subscription MessageAdded($channelId: ID!, $since: String) {
    messageAdded(channelId: $channelId, since: $since) {
      id
      nonce
      createdAt
      author {
        id
      }
      ...MessageItem_message
    }
  }
`);

const MarkRead = graphql(`
  mutation MarkChannelRead($channelId: ID!, $messageId: ID!) {
    markChannelRead(channelId: $channelId, messageId: $messageId) {
      id
      unreadCount
      mentionCount
      guild {
        id
      }
    }
  }
`);

const GROUP_WINDOW_MS = 5 * 60_000;

type MessageRef = FragmentType<typeof MessageItemFragment>;

interface Viewer {
  id: string;
  username: string;
  displayName: string;
  status: string;
}

/** One row of the list: a message the cache holds, or one of the viewer's sends not confirmed yet. */
interface Row {
  key: string;
  message: MessageRef;
  createdAt: string;
  authorId: string;
  isReply: boolean;
  failed: PendingSend | null;
}

/**
 * A pending send as a message: shown by MessageItem with the id `pending:<nonce>` (no actions,
 * "sending…") and the same React key as the server's copy will have, so the row stays in place.
 */
function pendingMessage(send: PendingSend, viewer: Viewer, replyTo: ReturnType<typeof replyTarget>): MessageRef {
  return makeFragmentData(
    {
      __typename: 'Message',
      id: `${PENDING_PREFIX}${send.nonce}`,
      content: send.content,
      createdAt: send.createdAt,
      editedAt: null,
      author: { __typename: 'User', id: viewer.id, username: viewer.username, displayName: viewer.displayName, status: viewer.status as never },
      replyTo,
      attachments: send.attachments.map((a) => ({ __typename: 'Attachment' as const, ...a })),
      mentions: [],
      reactions: [],
    },
    MessageItemFragment,
  );
}

function replyTarget(message: MessageRef | undefined) {
  if (!message) return null;
  const { id, content, author } = getFragmentData(MessageItemFragment, message);
  return { __typename: 'Message' as const, id, content, author: { __typename: 'User' as const, id: author.id, username: author.username, displayName: author.displayName } };
}

const nonceKey = (nonce: string) => `nonce:${nonce}`;

export function MessageList({
  channelId,
  channelName,
  viewerId,
  unreadAtEntry,
  canManageMessages,
  canReact,
  members,
  viewer,
  sends,
  onSettled,
  onRetry,
  onDiscard,
  onReply,
}: {
  channelId: string;
  channelName: string;
  viewerId: string;
  unreadAtEntry: number;
  canManageMessages: boolean;
  canReact: boolean;
  members: readonly MentionUser[];
  viewer: Viewer | null;
  /** the viewer's pending and failed sends in this channel */
  sends: readonly PendingSend[];
  /** the sends whose message the list now shows: they can go */
  onSettled(nonces: ReadonlySet<string>): void;
  onRetry(item: PendingSend): void;
  onDiscard(item: PendingSend): void;
  onReply(target: { id: string; authorName: string }): void;
}) {
  const client = useClient();
  const { notify } = useNotices();
  // cache-first: the newest page is kept current by messageAdded (resumed with `since`), and
  // refetching it would leave a hole between it and older pages already loaded
  const [{ data, fetching, error }] = useQuery({
    query: ChannelMessages,
    variables: { channelId, first: PAGE_SIZE },
    requestPolicy: 'cache-first',
  });
  const edges = data?.channel?.messages.edges ?? [];
  const pageInfo = data?.channel?.messages.pageInfo;
  const newestReal = edges.find((e) => !isPendingId(e.node.id));

  // Live messages from the newest one this page holds: the server replays anything after it.
  const [since, setSince] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    if (since === undefined && data?.channel) setSince(newestReal?.cursor ?? null);
  }, [since, data, newestReal]);
  useSubscription({ query: MessageAdded, variables: { channelId, since: since ?? null }, pause: since === undefined });

  // The unread marker sits where the channel's unread messages began when it was opened.
  const [unreadMarker] = useState(() => ({ count: unreadAtEntry }));

  const [loadingOlder, setLoadingOlder] = useState(false);
  const loadOlder = useCallback(async () => {
    if (!pageInfo?.hasNextPage || !pageInfo.endCursor || loadingOlder) return;
    setLoadingOlder(true);
    const result = await client.query(ChannelMessages, { channelId, first: PAGE_SIZE, after: pageInfo.endCursor }, { requestPolicy: 'network-only' }).toPromise();
    setLoadingOlder(false);
    if (result.error) notify(describeError(result.error, 'load older messages'), 'error');
  }, [client, channelId, pageInfo, loadingOlder, notify]);

  // oldest first for display
  const ordered = [...edges].reverse();

  // The viewer's sends whose message is not in the list yet follow it. The server's copy (from
  // the send's answer or from messageAdded, whichever came first) carries the send's nonce: in
  // the render where it appears, the pending one is left out, under the same key — no
  // duplicate, no gap. The sends shown are then settled (dropped from lib/sends.ts).
  const confirmed = confirmedNonces(
    edges.map((e) => e.node),
    viewerId,
  );
  const waiting = unconfirmedSends(sends, confirmed);
  const settled = sends.filter((send) => confirmed.has(send.nonce)).map((send) => send.nonce);
  const settledKey = settled.join(' ');
  useEffect(() => {
    if (settledKey) onSettled(new Set(settledKey.split(' ')));
  }, [settledKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const usedKeys = new Set<string>();
  const rowKey = (nonce: string | null | undefined, fallback: string) => {
    const preferred = nonce ? nonceKey(nonce) : fallback;
    const chosen = usedKeys.has(preferred) ? fallback : preferred;
    usedKeys.add(chosen);
    return chosen;
  };
  const rows: Row[] = ordered.map((edge) => ({
    key: rowKey(edge.node.author.id === viewerId ? edge.node.nonce : null, edge.node.id),
    message: edge.node,
    createdAt: edge.node.createdAt,
    authorId: edge.node.author.id,
    isReply: !!edge.node.replyTo,
    failed: null,
  }));
  if (viewer) {
    for (const send of waiting) {
      const target = send.replyToId ? edges.find((e) => e.node.id === send.replyToId)?.node : undefined;
      rows.push({
        key: rowKey(send.nonce, `${PENDING_PREFIX}${send.nonce}`),
        message: pendingMessage(send, viewer, replyTarget(target)),
        createdAt: send.createdAt,
        authorId: viewer.id,
        isReply: !!send.replyToId,
        failed: send.status === 'failed' ? send : null,
      });
    }
  }

  // --- scrolling: stick to the bottom, keep the position when older messages come in
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const previous = useRef<{ oldest?: string; height: number; top: number }>({ height: 0, top: 0 });
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const oldest = ordered[0]?.node.id;
    const before = previous.current;
    if (before.oldest && oldest !== before.oldest && !atBottom.current) {
      el.scrollTop = before.top + (el.scrollHeight - before.height);
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    previous.current = { oldest, height: el.scrollHeight, top: el.scrollTop };
  });
  useEffect(() => {
    const el = scroller.current;
    const inner = content.current;
    if (!el || !inner || typeof ResizeObserver === 'undefined') return;
    // images load after the first layout: keep the bottom in view while at the bottom
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
      previous.current = { ...previous.current, height: el.scrollHeight, top: el.scrollTop };
    });
    observer.observe(inner);
    return () => observer.disconnect();
  }, []);
  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    previous.current = { ...previous.current, height: el.scrollHeight, top: el.scrollTop };
    if (el.scrollTop < 300) void loadOlder();
    if (atBottom.current) markSeen();
  };
  // a short first page that does not fill the screen cannot be scrolled: load more at once
  useEffect(() => {
    const el = scroller.current;
    if (el && pageInfo?.hasNextPage && el.scrollHeight <= el.clientHeight + 300) void loadOlder();
  }, [pageInfo, loadOlder]);

  // --- read marker: the newest message, once it has been on screen
  const [, markRead] = useMutation(MarkRead);
  const lastMarked = useRef<string | null>(null);
  const markSeen = useCallback(() => {
    const newest = newestReal?.node.id;
    if (!newest || newest === lastMarked.current || document.visibilityState !== 'visible') return;
    lastMarked.current = newest;
    void markRead({ channelId, messageId: newest });
  }, [newestReal, channelId, markRead]);
  useEffect(() => {
    if (atBottom.current) {
      const timer = setTimeout(markSeen, 300);
      return () => clearTimeout(timer);
    }
  }, [markSeen]);
  useEffect(() => {
    const onVisible = () => atBottom.current && markSeen();
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('focus', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('focus', onVisible);
    };
  }, [markSeen]);

  // index (in display order) before which the unread marker goes
  let markerBefore = -1;
  if (unreadMarker.count > 0) {
    let seen = 0;
    for (let i = ordered.length - 1; i >= 0; i--) {
      if (ordered[i]!.node.author.id !== viewerId) seen++;
      if (seen === unreadMarker.count) {
        markerBefore = i;
        break;
      }
    }
  }

  return (
    <div className="message-scroller" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label={`Messages in #${channelName}`}>
      <div ref={content} className="message-content-wrap">
        {pageInfo && !pageInfo.hasNextPage && data ? (
          <div className="channel-start">
            <h2>Welcome to #{channelName}</h2>
            <p>This is the start of the channel.</p>
          </div>
        ) : null}
        {loadingOlder ? (
          <p className="loading-older" role="status">
            Loading older messages…
          </p>
        ) : null}
        {fetching && !data ? <p role="status">Loading messages…</p> : null}
        {error && !data ? <p role="alert">{describeError(error, 'load the messages')}</p> : null}
        <div role="log" aria-live="polite" aria-relevant="additions" aria-label={`#${channelName} messages`} data-testid="message-log">
          {rows.map((row, index) => {
            const prev = rows[index - 1];
            const newDay = !prev || new Date(prev.createdAt).toDateString() !== new Date(row.createdAt).toDateString();
            const compact =
              !newDay &&
              index !== markerBefore &&
              prev?.authorId === row.authorId &&
              Date.parse(row.createdAt) - Date.parse(prev.createdAt) < GROUP_WINDOW_MS &&
              !row.isReply;
            const failed = row.failed;
            return (
              <Fragment key={row.key}>
                {newDay ? (
                  <div className="day-divider" role="separator">
                    <span>{dayLabel(row.createdAt)}</span>
                  </div>
                ) : null}
                {index === markerBefore ? (
                  <div className="unread-divider" role="separator" aria-label="New messages">
                    <span>New</span>
                  </div>
                ) : null}
                {failed ? (
                  <div className="message failed" data-testid="failed-message">
                    <div className="message-row">
                      <div className="message-gutter" />
                      <div className="message-main">
                        <div className="message-content">{failed.content}</div>
                        <p className="form-error" role="alert">
                          Not sent: {failed.error}{' '}
                          <button type="button" className="link-button" onClick={() => onRetry(failed)}>
                            Retry
                          </button>{' '}
                          <button type="button" className="link-button" onClick={() => onDiscard(failed)}>
                            Discard
                          </button>
                        </p>
                      </div>
                    </div>
                  </div>
                ) : (
                  <MessageItem
                    message={row.message}
                    viewerId={viewerId}
                    compact={compact}
                    canManageMessages={canManageMessages}
                    canReact={canReact}
                    members={members}
                    onReply={onReply}
                  />
                )}
              </Fragment>
            );
          })}
        </div>
        {data && edges.length === 0 && sends.length === 0 ? <p className="empty">No messages yet. Say hello!</p> : null}
      </div>
    </div>
  );
}
