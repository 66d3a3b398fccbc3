// Writing a message: Enter sends, Shift+Enter is a new line, `@` suggests members, files are
// attached by picker, drag-and-drop (on the channel) or paste and uploaded at once with
// progress. Typing is announced (startTyping, at most every few seconds) and withdrawn on
// send and blur (stopTyping).
import { flushSync } from 'react-dom';
import { type ChangeEvent, type KeyboardEvent, type Ref, useEffect, useImperativeHandle, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { session } from '../../app/session';
import { graphql } from '../../gql';
import { type MentionUser, encodeMentions, mentionQueryAt } from '../../lib/mentions';
import { newNonce } from '../../lib/sends';
import { randomId } from '../../lib/session';
import { type UploadedAttachment, UploadError, formatBytes, uploadFiles } from '../../lib/uploads';
import { useNotices } from '../../ui/notices';

const StartTyping = graphql(`
  mutation StartTyping($channelId: ID!) {
    startTyping(channelId: $channelId)
  }
`);

const StopTyping = graphql(`
  mutation StopTyping($channelId: ID!) {
    stopTyping(channelId: $channelId)
  }
`);

export interface Draft {
  /** SendMessageInput.nonce: made once per message; Retry sends it again with the same one */
  nonce: string;
  content: string;
  replyToId: string | null;
  attachments?: UploadedAttachment[];
}

interface PendingFile {
  localId: string;
  file: File;
  progress: number;
  uploaded: UploadedAttachment | null;
  error: string | null;
}

const TYPING_REFRESH_MS = 4_000;

export interface ComposerHandle {
  focus(): void;
  addFiles(files: File[]): void;
}

export function Composer({
  ref,
  channelId,
  channelName,
  members,
  canAttach,
  replyTo,
  onCancelReply,
  onSend,
}: {
  ref: Ref<ComposerHandle>;
  channelId: string;
  channelName: string;
  members: readonly MentionUser[];
  canAttach: boolean;
  replyTo: { id: string; authorName: string } | null;
  onCancelReply(): void;
  onSend(draft: Draft, attachments: UploadedAttachment[]): Promise<boolean>;
}) {
  const [text, setText] = useState('');
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [suggest, setSuggest] = useState<{ start: number; query: string; index: number } | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const typingAt = useRef(0);
  const [, startTyping] = useMutation(StartTyping);
  const [, stopTyping] = useMutation(StopTyping);
  const { notify } = useNotices();

  const stop = () => {
    if (!typingAt.current) return;
    typingAt.current = 0;
    void stopTyping({ channelId });
  };
  useEffect(() => () => stop(), []); // eslint-disable-line react-hooks/exhaustive-deps

  const addFiles = (added: File[]) => {
    if (!canAttach || added.length === 0) return;
    const pending = added.map((file) => ({ localId: randomId(), file, progress: 0, uploaded: null, error: null }));
    setFiles((all) => [...all, ...pending]);
    void (async () => {
      const token = await session.accessToken();
      for (const item of pending) {
        const update = (patch: Partial<PendingFile>) =>
          setFiles((all) => all.map((f) => (f.localId === item.localId ? { ...f, ...patch } : f)));
        try {
          const [uploaded] = await uploadFiles([item.file], token ?? '', (progress) => update({ progress }));
          update({ uploaded: uploaded ?? null, progress: 1 });
        } catch (err) {
          update({ error: err instanceof UploadError ? err.message : 'The upload failed.' });
        }
      }
    })();
  };

  useImperativeHandle(ref, () => ({ focus: () => textarea.current?.focus(), addFiles }));

  const candidates = suggest
    ? members
        .filter((m) => {
          const q = suggest.query.toLowerCase();
          return m.username.toLowerCase().startsWith(q) || m.displayName.toLowerCase().startsWith(q);
        })
        .slice(0, 8)
    : [];

  const uploading = files.some((f) => !f.uploaded && !f.error);
  const ready = files.filter((f) => f.uploaded).map((f) => f.uploaded!);

  const submit = async () => {
    const content = encodeMentions(text.trim(), members);
    if ((!content && ready.length === 0) || uploading) return;
    const draft: Draft = { nonce: newNonce(), content, replyToId: replyTo?.id ?? null };
    setText('');
    setFiles([]);
    setSuggest(null);
    stop();
    await onSend(draft, ready);
  };

  const pick = (user: MentionUser) => {
    if (!suggest) return;
    const el = textarea.current;
    const caret = el?.selectionStart ?? text.length;
    const next = `${text.slice(0, suggest.start)}@${user.username} ${text.slice(caret)}`;
    const position = suggest.start + user.username.length + 2;
    // commit the new text now and put the caret after the mention before the next keystroke:
    // placed a frame later, what a fast typist typed meanwhile landed before it, scrambled
    flushSync(() => {
      setText(next);
      setSuggest(null);
    });
    el?.focus();
    el?.setSelectionRange(position, position);
  };

  const onChange = (event: ChangeEvent<HTMLTextAreaElement>) => {
    const value = event.target.value;
    setText(value);
    const found = mentionQueryAt(value, event.target.selectionStart ?? value.length);
    setSuggest(found ? { ...found, index: 0 } : null);
    if (value.trim()) {
      if (Date.now() - typingAt.current > TYPING_REFRESH_MS) {
        typingAt.current = Date.now();
        void startTyping({ channelId });
      }
    } else stop();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (suggest && candidates.length > 0) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const delta = event.key === 'ArrowDown' ? 1 : -1;
        setSuggest({ ...suggest, index: (suggest.index + delta + candidates.length) % candidates.length });
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        pick(candidates[suggest.index] ?? candidates[0]!);
        return;
      }
    }
    if (event.key === 'Escape') {
      if (suggest) setSuggest(null);
      else if (replyTo) onCancelReply();
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  };

  const activeId = suggest && candidates[suggest.index] ? `mention-${candidates[suggest.index]!.id}` : undefined;

  return (
    <div className="composer">
      {replyTo ? (
        <div className="composer-reply">
          Replying to <strong>{replyTo.authorName}</strong>
          <button type="button" className="icon-button" aria-label="Cancel reply" onClick={onCancelReply}>
            ×
          </button>
        </div>
      ) : null}
      {files.length > 0 ? (
        <ul className="composer-files" aria-label="Attachments to send">
          {files.map((f) => (
            <li key={f.localId} className={f.error ? 'error' : ''}>
              <span className="file-name">{f.file.name}</span> <span className="muted">{formatBytes(f.file.size)}</span>
              {f.error ? (
                <span role="alert"> — {f.error}</span>
              ) : f.uploaded ? (
                <span className="muted"> — ready</span>
              ) : (
                <progress max={1} value={f.progress} aria-label={`Uploading ${f.file.name}`} />
              )}
              <button
                type="button"
                className="icon-button"
                aria-label={`Remove ${f.file.name}`}
                onClick={() => setFiles((all) => all.filter((x) => x.localId !== f.localId))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {suggest && candidates.length > 0 ? (
        <ul className="mention-suggestions" role="listbox" id="mention-suggestions" aria-label="Members">
          {candidates.map((user, index) => (
            <li
              key={user.id}
              id={`mention-${user.id}`}
              role="option"
              aria-selected={index === suggest.index}
              onMouseDown={(event) => {
                event.preventDefault();
                pick(user);
              }}
            >
              <strong>{user.displayName}</strong> <span className="muted">@{user.username}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="composer-row">
        {canAttach ? (
          <>
            <button type="button" className="icon-button attach-button" aria-label="Attach files" title="Attach files" onClick={() => picker.current?.click()}>
              +
            </button>
            <input
              ref={picker}
              type="file"
              multiple
              hidden
              aria-hidden="true"
              tabIndex={-1}
              data-testid="file-input"
              onChange={(event) => {
                addFiles([...(event.target.files ?? [])]);
                event.target.value = '';
              }}
            />
          </>
        ) : null}
        <label className="sr-only" htmlFor="composer-input">
          Message #{channelName}
        </label>
        <textarea
          id="composer-input"
          ref={textarea}
          rows={1}
          value={text}
          placeholder={`Message #${channelName}`}
          onChange={onChange}
          onKeyDown={onKeyDown}
          onBlur={() => {
            stop();
            setTimeout(() => setSuggest(null), 100);
          }}
          onPaste={(event) => {
            const pasted = [...event.clipboardData.files];
            if (pasted.length && canAttach) {
              event.preventDefault();
              addFiles(pasted);
            } else if (pasted.length) notify('You cannot attach files in this channel.', 'error');
          }}
          aria-autocomplete="list"
          aria-controls={suggest && candidates.length ? 'mention-suggestions' : undefined}
          aria-activedescendant={activeId}
          aria-describedby="composer-hint"
        />
        <button type="button" className="primary send-button" onClick={() => void submit()} disabled={uploading || (!text.trim() && ready.length === 0)}>
          Send
        </button>
      </div>
      <p id="composer-hint" className="sr-only">
        Enter sends, Shift+Enter starts a new line, @ mentions a member.
      </p>
    </div>
  );
}
