// Who is signed in, their status (online, idle, do not disturb, invisible), and sign out.
import { useMutation, useQuery } from 'urql';
import { session } from '../../app/session';
import { graphql } from '../../gql';
import { describeError } from '../../lib/errors';
import { Avatar } from '../../ui/Avatar';
import { useNotices } from '../../ui/notices';

const Viewer = graphql(`
  query UserPanel {
    viewer {
      id
      username
      displayName
      status
    }
  }
`);

const SetPresence = graphql(`
  mutation SetPresence($status: PresenceStatus!) {
    setPresence(status: $status) {
      id
      status
    }
  }
`);

const STATUSES = [
  { value: 'ONLINE', label: 'Online' },
  { value: 'IDLE', label: 'Idle' },
  { value: 'DND', label: 'Do not disturb' },
  { value: 'OFFLINE', label: 'Invisible' },
] as const;

export function UserPanel() {
  const [{ data }] = useQuery({ query: Viewer, requestPolicy: 'cache-first' });
  const [, setPresence] = useMutation(SetPresence);
  const { notify } = useNotices();
  const viewer = data?.viewer;
  if (!viewer) return <div className="user-panel" />;
  return (
    <section className="user-panel" aria-label="Your account">
      <Avatar id={viewer.id} name={viewer.displayName} size={32} status={viewer.status} />
      <div className="user-panel-text">
        <span className="user-name" data-testid="viewer-name">
          {viewer.displayName}
        </span>
        <label className="sr-only" htmlFor="status-picker">
          Status
        </label>
        <select
          id="status-picker"
          className="status-picker"
          value={viewer.status}
          onChange={async (event) => {
            const result = await setPresence({ status: event.target.value as (typeof STATUSES)[number]['value'] });
            if (result.error) notify(describeError(result.error, 'change your status'), 'error');
          }}
        >
          {STATUSES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </div>
      <button type="button" className="icon-button" aria-label="Sign out" title="Sign out" onClick={() => void session.signOut()}>
        ⎋
      </button>
    </section>
  );
}
