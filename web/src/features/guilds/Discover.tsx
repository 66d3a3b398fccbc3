// Public guilds the viewer has not joined, with a join button.
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { describeError } from '../../lib/errors';
import { navigate, paths } from '../../lib/router';
import { Avatar } from '../../ui/Avatar';
import { useNotices } from '../../ui/notices';
import { useLayout } from '../../app/Shell';

const DiscoverQuery = graphql(`
  query Discover {
    guilds(first: 100) {
      edges {
        node {
          id
          name
          description
          isPublic
          memberCount
          viewerUnread {
            unreadMessageCount
          }
        }
      }
    }
  }
`);

const JoinPublicGuild = graphql(`
  mutation JoinPublicGuild($guildId: ID!) {
    joinPublicGuild(guildId: $guildId) {
      id
      name
      channels {
        id
      }
    }
  }
`);

export function Discover() {
  const [{ data, fetching, error }] = useQuery({ query: DiscoverQuery });
  const [{ fetching: joining }, join] = useMutation(JoinPublicGuild);
  const { notify } = useNotices();
  const { setDrawerOpen } = useLayout();
  const guilds = (data?.guilds.edges ?? []).map((e) => e.node).filter((g) => g.isPublic && g.viewerUnread === null);
  return (
    <main className="main page" aria-labelledby="discover-title">
      <header className="main-header">
        <button type="button" className="icon-button menu-button" aria-label="Open navigation" onClick={() => setDrawerOpen(true)}>
          ☰
        </button>
        <h1 id="discover-title">Discover public servers</h1>
      </header>
      <div className="page-body">
        {fetching && !data ? <p role="status">Loading…</p> : null}
        {error && !data ? <p role="alert">{describeError(error, 'load the servers')}</p> : null}
        {data && guilds.length === 0 ? <p className="empty">No public servers to join right now.</p> : null}
        <ul className="card-list">
          {guilds.map((guild) => (
            <li key={guild.id} className="card">
              <Avatar id={guild.id} name={guild.name} size={48} />
              <div className="card-text">
                <h2>{guild.name}</h2>
                {guild.description ? <p>{guild.description}</p> : null}
                <p className="muted">
                  {guild.memberCount} member{guild.memberCount === 1 ? '' : 's'}
                </p>
              </div>
              <button
                type="button"
                className="primary"
                disabled={joining}
                onClick={async () => {
                  const result = await join({ guildId: guild.id });
                  if (result.data) navigate(paths.guild(guild.id, result.data.joinPublicGuild.channels[0]?.id));
                  else notify(describeError(result.error, 'join the server'), 'error');
                }}
              >
                Join {guild.name}
              </button>
            </li>
          ))}
        </ul>
      </div>
    </main>
  );
}
