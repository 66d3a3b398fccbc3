// One message: author, time, the message it replies to, content with mentions, attachments,
// reactions; reply, react, edit (own) and delete (own, or anyone's with MANAGE_MESSAGES).
import { type KeyboardEvent, memo, useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { type FragmentType, getFragmentData, graphql } from '../../gql';
import { isPendingId } from '../../lib/cache';
import { describeError } from '../../lib/errors';
import { type MentionUser, decodeMentions, encodeMentions, parseContent } from '../../lib/mentions';
import { fullDate, relativeTime } from '../../lib/time';
import { formatBytes, isImage } from '../../lib/uploads';
import { Avatar } from '../../ui/Avatar';
import { useNotices } from '../../ui/notices';
import { useNow } from '../../ui/useNow';

export const MessageItemFragment = graphql(`
  fragment MessageItem_message on Message {
    id
    content
    createdAt
    editedAt
    author {
      id
      username
      displayName
      status
    }
    replyTo {
      id
      content
      author {
        id
        username
        displayName
      }
    }
    attachments {
      id
      fileName
      contentType
      size
      url
    }
    mentions {
      id
      username
      displayName
    }
    reactions {
      emoji
      count
      viewerReacted
    }
  }
`);

const EditMessage = graphql(`
  mutation EditMessage($id: ID!, $content: String!) {
    editMessage(id: $id, content: $content) {
      id
      content
      editedAt
      mentions {
        id
        username
        displayName
      }
    }
  }
`);

const DeleteMessage = graphql(`
  mutation DeleteMessage($id: ID!) {
    deleteMessage(id: $id)
  }
`);

const AddReaction = graphql(`
  mutation AddReaction($messageId: ID!, $emoji: String!) {
    addReaction(messageId: $messageId, emoji: $emoji) {
      id
      reactions {
        emoji
        count
        viewerReacted
      }
    }
  }
`);

const RemoveReaction = graphql(`
  mutation RemoveReaction($messageId: ID!, $emoji: String!) {
    removeReaction(messageId: $messageId, emoji: $emoji) {
      id
      reactions {
        emoji
        count
        viewerReacted
      }
    }
  }
`);

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

export interface MessageItemProps {
  message: FragmentType<typeof MessageItemFragment>;
  viewerId: string;
  compact: boolean;
  canManageMessages: boolean;
  canReact: boolean;
  members: readonly MentionUser[];
  onReply(message: { id: string; authorName: string }): void;
}

export const MessageItem = memo(function MessageItem({
  message: masked,
  viewerId,
  compact,
  canManageMessages,
  canReact,
  members,
  onReply,
}: MessageItemProps) {
  const message = getFragmentData(MessageItemFragment, masked);
  const now = useNow(30_000);
  const [editing, setEditing] = useState(false);
  const [picking, setPicking] = useState(false);
  const [, edit] = useMutation(EditMessage);
  const [, remove] = useMutation(DeleteMessage);
  const [, addReaction] = useMutation(AddReaction);
  const [, removeReaction] = useMutation(RemoveReaction);
  const { notify } = useNotices();
  const pending = isPendingId(message.id);
  const mine = message.author.id === viewerId;
  const mentionsMe = message.mentions.some((u) => u.id === viewerId);

  const toggleReaction = async (emoji: string, reacted: boolean) => {
    setPicking(false);
    const result = reacted ? await removeReaction({ messageId: message.id, emoji }) : await addReaction({ messageId: message.id, emoji });
    if (result.error) notify(describeError(result.error, 'react'), 'error');
  };

  const destroy = async () => {
    if (!window.confirm('Delete this message?')) return;
    const result = await remove({ id: message.id });
    if (result.error) notify(describeError(result.error, 'delete the message'), 'error');
  };

  return (
    <article
      className={`message${compact ? ' compact' : ''}${mentionsMe ? ' mentions-me' : ''}${pending ? ' pending' : ''}`}
      aria-label={`${message.author.displayName}, ${relativeTime(message.createdAt, now)}`}
      data-message-id={message.id}
      data-testid="message"
    >
      {message.replyTo ? (
        <div className="reply-preview">
          <span aria-hidden="true">↱</span> <span className="sr-only">Replying to</span>
          <strong>{message.replyTo.author.displayName}</strong>{' '}
          <span className="reply-text">{renderPlain(message.replyTo.content, members)}</span>
        </div>
      ) : null}
      <div className="message-row">
        <div className="message-gutter">
          {compact ? null : <Avatar id={message.author.id} name={message.author.displayName} size={36} />}
        </div>
        <div className="message-main">
          {compact ? null : (
            <header className="message-header">
              <span className="author" title={`@${message.author.username}`}>
                {message.author.displayName}
              </span>
              <time dateTime={message.createdAt} title={fullDate(message.createdAt)}>
                {pending ? 'sending…' : relativeTime(message.createdAt, now)}
              </time>
            </header>
          )}
          {editing ? (
            <EditBox
              initial={decodeMentions(message.content, message.mentions)}
              onCancel={() => setEditing(false)}
              onSave={async (text) => {
                const content = encodeMentions(text, [...members, ...message.mentions]);
                if (content === message.content) return setEditing(false);
                const result = await edit({ id: message.id, content });
                if (result.error) notify(describeError(result.error, 'edit the message'), 'error');
                else setEditing(false);
              }}
            />
          ) : (
            <div className="message-content">
              <Content content={message.content} mentions={message.mentions} viewerId={viewerId} />
              {message.editedAt ? (
                <span className="edited" title={fullDate(message.editedAt)}>
                  {' '}
                  (edited)
                </span>
              ) : null}
            </div>
          )}
          {message.attachments.length > 0 ? (
            <ul className="attachments" aria-label="Attachments">
              {message.attachments.map((file) => (
                <li key={file.id}>
                  {isImage(file.contentType) ? (
                    <a href={file.url} target="_blank" rel="noreferrer">
                      <img src={file.url} alt={file.fileName} loading="lazy" className="attachment-image" />
                    </a>
                  ) : (
                    <a href={file.url} download={file.fileName} className="attachment-file">
                      ⤓ {file.fileName} <span className="muted">({formatBytes(file.size)})</span>
                    </a>
                  )}
                </li>
              ))}
            </ul>
          ) : null}
          {message.reactions.length > 0 ? (
            <ul className="reactions" aria-label="Reactions">
              {message.reactions.map((reaction) => (
                <li key={reaction.emoji}>
                  <button
                    type="button"
                    className={`reaction${reaction.viewerReacted ? ' mine' : ''}`}
                    aria-pressed={reaction.viewerReacted}
                    aria-label={`${reaction.emoji} ${reaction.count} reaction${reaction.count === 1 ? '' : 's'}${reaction.viewerReacted ? ', including yours' : ''}`}
                    disabled={!canReact || pending}
                    onClick={() => toggleReaction(reaction.emoji, reaction.viewerReacted)}
                  >
                    {reaction.emoji} <span className="count">{reaction.count}</span>
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
        {pending || editing ? null : (
          <div className="message-actions" role="toolbar" aria-label="Message actions">
            <button type="button" className="icon-button" aria-label="Reply" title="Reply" onClick={() => onReply({ id: message.id, authorName: message.author.displayName })}>
              ↩
            </button>
            {canReact ? (
              <button type="button" className="icon-button" aria-label="Add reaction" title="Add reaction" aria-expanded={picking} onClick={() => setPicking((p) => !p)}>
                ☺
              </button>
            ) : null}
            {mine ? (
              <button type="button" className="icon-button" aria-label="Edit message" title="Edit" onClick={() => setEditing(true)}>
                ✎
              </button>
            ) : null}
            {mine || canManageMessages ? (
              <button type="button" className="icon-button" aria-label="Delete message" title="Delete" onClick={destroy}>
                ✕
              </button>
            ) : null}
            {picking ? (
              <div className="reaction-picker" role="group" aria-label="Pick a reaction">
                {QUICK_REACTIONS.map((emoji) => {
                  const reacted = message.reactions.some((r) => r.emoji === emoji && r.viewerReacted);
                  return (
                    <button key={emoji} type="button" className="icon-button" aria-label={`React with ${emoji}`} onClick={() => toggleReaction(emoji, reacted)}>
                      {emoji}
                    </button>
                  );
                })}
              </div>
            ) : null}
          </div>
        )}
      </div>
    </article>
  );
});

function Content({ content, mentions, viewerId }: { content: string; mentions: readonly MentionUser[]; viewerId: string }) {
  return (
    <>
      {parseContent(content, mentions).map((part, index) =>
        part.kind === 'text' ? (
          <span key={index}>{part.text}</span>
        ) : (
          <span key={index} className={`mention${part.userId === viewerId ? ' me' : ''}`}>
            @{part.user?.displayName ?? 'unknown user'}
          </span>
        ),
      )}
    </>
  );
}

function renderPlain(content: string, members: readonly MentionUser[]): string {
  const text = parseContent(content, members)
    .map((part) => (part.kind === 'text' ? part.text : `@${part.user?.displayName ?? 'someone'}`))
    .join('');
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function EditBox({ initial, onSave, onCancel }: { initial: string; onSave(text: string): void; onCancel(): void }) {
  const [text, setText] = useState(initial);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onCancel();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (text.trim()) onSave(text.trim());
    }
  };
  return (
    <div className="edit-box">
      <label className="sr-only" htmlFor="edit-message">
        Edit your message
      </label>
      <textarea id="edit-message" ref={ref} value={text} rows={2} onChange={(e) => setText(e.target.value)} onKeyDown={onKeyDown} />
      <p className="hint">
        Escape to <button type="button" className="link-button" onClick={onCancel}>cancel</button>, Enter to{' '}
        <button type="button" className="link-button" onClick={() => text.trim() && onSave(text.trim())}>
          save
        </button>
      </p>
    </div>
  );
}
