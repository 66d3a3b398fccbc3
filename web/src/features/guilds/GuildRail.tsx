// The server rail: joined guilds with unread and mention badges, then create and discover.
import { type FragmentType, getFragmentData, graphql } from '../../gql';
import { Link, paths, useRoute } from '../../lib/router';
import { Avatar } from '../../ui/Avatar';

const GuildRailFragment = graphql(`
  fragment GuildRail_guild on Guild {
    id
    name
    viewerUnread {
      unreadChannelCount
      unreadMessageCount
      mentionCount
    }
  }
`);

export function GuildRail({ guilds, onCreate }: { guilds: FragmentType<typeof GuildRailFragment>[]; onCreate: () => void }) {
  const route = useRoute();
  const current = route.name === 'guild' || route.name === 'settings' ? route.guildId : null;
  return (
    <nav className="rail" aria-label="Servers">
      <ul>
        {guilds.map((masked) => {
          const guild = getFragmentData(GuildRailFragment, masked);
          const unread = guild.viewerUnread;
          const mentions = unread?.mentionCount ?? 0;
          const hasUnread = (unread?.unreadMessageCount ?? 0) > 0;
          const label = [guild.name, mentions ? `${mentions} mention${mentions === 1 ? '' : 's'}` : null, hasUnread ? 'unread messages' : null]
            .filter(Boolean)
            .join(', ');
          return (
            <li key={guild.id} className={`rail-item${current === guild.id ? ' active' : ''}${hasUnread ? ' unread' : ''}`}>
              <Link href={paths.guild(guild.id)} aria-label={label} aria-current={current === guild.id ? 'page' : undefined} title={guild.name}>
                <Avatar id={guild.id} name={guild.name} size={44} />
                {mentions > 0 ? (
                  <span className="badge" data-testid="mention-badge">
                    {mentions > 99 ? '99+' : mentions}
                  </span>
                ) : null}
              </Link>
            </li>
          );
        })}
        <li className="rail-item">
          <button type="button" className="rail-action" aria-label="Create a server" title="Create a server" onClick={onCreate}>
            +
          </button>
        </li>
        <li className={`rail-item${route.name === 'discover' ? ' active' : ''}`}>
          <Link className="rail-action" href={paths.discover()} aria-label="Discover public servers" title="Discover public servers">
            ⌕
          </Link>
        </li>
      </ul>
    </nav>
  );
}
