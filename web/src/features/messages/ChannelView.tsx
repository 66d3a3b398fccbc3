// An open text channel: header, history, who is typing, the composer. Its live streams
// (typing, edits and reactions, deletions) start before its state is read; new messages
// start once the first page is in, from that page's newest message (MessageList).
import { useCallback, useRef, useState, useSyncExternalStore } from 'react';
import { useClient, useQuery, useSubscription } from 'urql';
import { useLayout } from '../../app/Shell';
import { graphql } from '../../gql';
import { describeError } from '../../lib/errors';
import { type PendingSend, sendsFor } from '../../lib/sends';
import type { UploadedAttachment } from '../../lib/uploads';
import { useGuildMembers } from '../members/MemberList';
import { Composer, type Draft } from './Composer';
import { MessageItemFragment } from './MessageItem';
import { MessageList } from './MessageList';
import { TypingIndicator } from './TypingIndicator';

const ChannelHeader = graphql(`
  query ChannelHeader($channelId: ID!) {
    channel(id: $channelId) {
      id
      name
      topic
      type
      unreadCount
      mentionCount
      typingUsers {
        id
        displayName
      }
    }
    viewer {
      id
      username
      displayName
      status
    }
  }
`);

const TypingSubscription = graphql(`
  subscription ChannelTyping($channelId: ID!) {
    typing(channelId: $channelId) {
      channelId
      isTyping
      expiresAt
      user {
        id
        displayName
      }
    }
  }
`);

const MessageUpdated = graphql(`
  subscription MessageUpdated($channelId: ID!) {
    messageUpdated(channelId: $channelId) {
      id
      ...MessageItem_message
    }
  }
`);

const MessageDeleted = graphql(`
  subscription MessageDeleted($channelId: ID!) {
    messageDeleted(channelId: $channelId) {
      id
      channelId
    }
  }
`);

const SendMessage = graphql(`
  mutation SendMessage($input: SendMessageInput!) {
    sendMessage(input: $input) {
      id
      nonce
      createdAt
      author {
        id
      }
      mentions {
        id
      }
      ...MessageItem_message
    }
  }
`);

void MessageItemFragment;

/** The channel's pending and failed sends (lib/sends.ts), kept across channel switches. */
export function useSends(channelId: string) {
  const store = sendsFor(useClient(), SendMessage);
  const sends = useSyncExternalStore(store.subscribe, () => store.list(channelId));
  return { store, sends };
}

export function ChannelView({ guildId, channelId, permissions }: { guildId: string; channelId: string; permissions: Set<string> }) {
  useSubscription({ query: TypingSubscription, variables: { channelId } });
  useSubscription({ query: MessageUpdated, variables: { channelId } });
  useSubscription({ query: MessageDeleted, variables: { channelId } });
  const [{ data, error, fetching }] = useQuery({ query: ChannelHeader, variables: { channelId } });
  const { store, sends } = useSends(channelId);
  const [replyTo, setReplyTo] = useState<{ id: string; authorName: string } | null>(null);
  const { members } = useGuildMembers(guildId);
  const { setDrawerOpen, setMembersOpen, membersOpen } = useLayout();
  const composerRef = useRef<{ focus(): void; addFiles(files: File[]): void } | null>(null);
  const [dragging, setDragging] = useState(false);

  // A nonce per send (Draft.nonce, made by the composer): the server stores a send once however
  // often it is tried, and its copy carries the nonce back (see lib/sends.ts).
  const send = useCallback(
    (draft: Draft, attachments: UploadedAttachment[]) =>
      store.send({ channelId, nonce: draft.nonce, content: draft.content, replyToId: draft.replyToId, attachments }),
    [channelId, store],
  );

  // the same nonce again: a send whose answer was lost but which was stored is not stored twice
  const retry = (item: PendingSend) => void store.retry(channelId, item.nonce);

  const channel = data?.channel;
  const viewerId = data?.viewer?.id ?? '';
  const canSend = permissions.has('SEND_MESSAGES');
  const mentionUsers = members.map((m) => m.user);

  if (!data && fetching) return <main className="main loading-page" role="status">Loading channel…</main>;
  if (!channel) {
    return (
      <main className="main empty-page" role="alert">
        {error ? describeError(error, 'open this channel') : 'This channel does not exist, or you cannot see it.'}
      </main>
    );
  }

  return (
    <main
      className={`main channel${dragging ? ' dragging' : ''}`}
      aria-labelledby="channel-title"
      onDragOver={(event) => {
        if (!permissions.has('ATTACH_FILES') || !event.dataTransfer.types.includes('Files')) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (event.currentTarget === event.target) setDragging(false);
      }}
      onDrop={(event) => {
        setDragging(false);
        if (!permissions.has('ATTACH_FILES') || event.dataTransfer.files.length === 0) return;
        event.preventDefault();
        composerRef.current?.addFiles([...event.dataTransfer.files]);
      }}
    >
      <header className="main-header">
        <button type="button" className="icon-button menu-button" aria-label="Open navigation" onClick={() => setDrawerOpen(true)}>
          ☰
        </button>
        <h1 id="channel-title">
          <span aria-hidden="true" className="hash">
            #
          </span>
          {channel.name}
        </h1>
        {channel.topic ? <p className="topic">{channel.topic}</p> : null}
        <span className="spacer" />
        <button
          type="button"
          className="icon-button members-button"
          aria-label={membersOpen ? 'Hide member list' : 'Show member list'}
          aria-pressed={membersOpen}
          onClick={() => setMembersOpen(!membersOpen)}
        >
          Members
        </button>
      </header>
      <MessageList
        channelId={channelId}
        channelName={channel.name}
        viewerId={viewerId}
        unreadAtEntry={channel.unreadCount}
        canManageMessages={permissions.has('MANAGE_MESSAGES')}
        canReact={permissions.has('ADD_REACTIONS')}
        members={mentionUsers}
        viewer={data.viewer ?? null}
        sends={sends}
        onSettled={(nonces) => store.settle(channelId, nonces)}
        onRetry={retry}
        onDiscard={(item) => store.discard(channelId, item.nonce)}
        onReply={(target) => {
          setReplyTo(target);
          composerRef.current?.focus();
        }}
      />
      <TypingIndicator users={channel.typingUsers.filter((u) => u.id !== viewerId)} />
      {canSend ? (
        <Composer
          ref={composerRef}
          channelId={channelId}
          channelName={channel.name}
          members={mentionUsers}
          canAttach={permissions.has('ATTACH_FILES')}
          replyTo={replyTo}
          onCancelReply={() => setReplyTo(null)}
          onSend={async (draft, attachments) => {
            setReplyTo(null);
            return send(draft, attachments);
          }}
        />
      ) : (
        <p className="composer-disabled">You do not have permission to send messages in this channel.</p>
      )}
      {dragging ? (
        <div className="drop-overlay" aria-hidden="true">
          Drop files to attach them
        </div>
      ) : null}
    </main>
  );
}
