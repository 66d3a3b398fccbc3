// "X is typing…" for the others in the channel (the server never sends our own).
export function TypingIndicator({ users }: { users: readonly { id: string; displayName: string }[] }) {
  let text = '';
  if (users.length === 1) text = `${users[0]!.displayName} is typing…`;
  else if (users.length === 2) text = `${users[0]!.displayName} and ${users[1]!.displayName} are typing…`;
  else if (users.length > 2) text = 'Several people are typing…';
  return (
    <div className="typing-indicator" aria-live="polite" data-testid="typing">
      {text ? (
        <>
          <span className="typing-dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          {text}
        </>
      ) : null}
    </div>
  );
}
