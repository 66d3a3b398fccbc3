// The signed-in screen: the server rail, then whatever the route shows. Also the app-wide live
// parts: mentions from every guild, and one guildEvents stream per joined guild so that a
// removal (kick, ban, deletion) takes the guild out of view at once, wherever the person is.
import { type ReactNode, createContext, useContext, useEffect, useRef, useState } from 'react';
import { onEnd, pipe, subscribe } from 'wonka';
import { useClient, useQuery, useSubscription } from 'urql';
import { CreateGuildDialog } from '../features/guilds/CreateGuildDialog';
import { Discover } from '../features/guilds/Discover';
import { GuildRail } from '../features/guilds/GuildRail';
import { GuildView } from '../features/guilds/GuildView';
import { InvitePage } from '../features/guilds/InvitePage';
import { UserPanel } from '../features/members/UserPanel';
import { VoicePanel } from '../features/voice/VoicePanel';
import { VoiceProvider } from '../features/voice/VoiceProvider';
import { graphql } from '../gql';
import type { ChatClient } from '../lib/client';
import { Link, navigate, paths, useRoute } from '../lib/router';
import { useNotices } from '../ui/notices';

export const ShellQuery = graphql(`
  query Shell {
    viewer {
      id
      username
      displayName
      status
      email
    }
    guilds(first: 100) {
      edges {
        node {
          id
          name
          viewerUnread {
            unreadMessageCount
          }
          ...GuildRail_guild
        }
      }
    }
  }
`);

const MentionAdded = graphql(`
  subscription MentionAdded {
    mentionAdded {
      id
      author {
        id
        displayName
      }
      channel {
        id
        name
        guild {
          id
          name
        }
      }
    }
  }
`);

const WatchGuild = graphql(`
  subscription WatchGuild($guildId: ID!) {
    guildEvents(guildId: $guildId) {
      __typename
      ... on MemberJoinedEvent {
        guildId
        user {
          id
          username
          displayName
          status
        }
      }
      ... on MemberLeftEvent {
        guildId
        reason
        user {
          id
          username
          displayName
        }
      }
      ... on ChannelCreatedEvent {
        channel {
          id
          name
          topic
          type
          position
          unreadCount
          mentionCount
          voiceStates {
            ...VoiceParticipant_state
          }
        }
      }
      ... on ChannelUpdatedEvent {
        channel {
          id
          name
          topic
          type
          position
        }
      }
      ... on ChannelDeletedEvent {
        channelId
        guildId
      }
      ... on GuildUpdatedEvent {
        guild {
          id
          name
          description
          isPublic
          owner {
            id
            username
            displayName
          }
        }
      }
      ... on GuildDeletedEvent {
        guildId
      }
    }
  }
`);

const Membership = graphql(`
  query Membership($guildId: ID!) {
    guild(id: $guildId) {
      id
      viewerUnread {
        unreadMessageCount
      }
    }
  }
`);

interface Layout {
  drawerOpen: boolean;
  setDrawerOpen(open: boolean): void;
  membersOpen: boolean;
  setMembersOpen(open: boolean): void;
}

const LayoutContext = createContext<Layout>({
  drawerOpen: false,
  setDrawerOpen: () => undefined,
  membersOpen: false,
  setMembersOpen: () => undefined,
});
export const useLayout = () => useContext(LayoutContext);

export function Shell({ chat }: { chat: ChatClient }) {
  const route = useRoute();
  const [{ data, error, fetching }, refetch] = useQuery({ query: ShellQuery });
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(false);
  const [creating, setCreating] = useState(false);
  const [offline, setOffline] = useState(false);
  const { notify } = useNotices();
  const routeRef = useRef(route);
  routeRef.current = route;

  useEffect(() => chat.subscribeConnection((state) => setOffline(!state.online)), [chat]);
  // unread counts of channels nobody here is subscribed to: refreshed now and then
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') refetch({ requestPolicy: 'network-only' });
    }, 30_000);
    return () => clearInterval(timer);
  }, [refetch]);
  useEffect(() => setDrawerOpen(false), [route.name, 'guildId' in route ? route.guildId : null, 'channelId' in route ? route.channelId : null]);

  useSubscription({ query: MentionAdded }, (_previous, event) => {
    const message = event.mentionAdded;
    const current = routeRef.current;
    if (!(current.name === 'guild' && current.channelId === message.channel.id && document.visibilityState === 'visible')) {
      const where = message.channel.guild ? `#${message.channel.name} (${message.channel.guild.name})` : 'a direct message';
      notify(`${message.author.displayName} mentioned you in ${where}`);
    }
    return event;
  });

  // guilds the viewer was just removed from stay out of view even before the list refetches
  const [removed, setRemoved] = useState<ReadonlySet<string>>(new Set());
  const joined = (data?.guilds.edges ?? [])
    .filter((edge) => edge.node.viewerUnread !== null && !removed.has(edge.node.id))
    .map((edge) => edge.node);

  useEffect(() => {
    if (route.name === 'home' && data) {
      const first = joined[0];
      if (first) navigate(paths.guild(first.id), { replace: true });
    }
  }, [route.name, data, joined]);

  const onRemoved = (guildId: string, name: string, reason: string | null) => {
    const text =
      reason === 'KICKED'
        ? `You were kicked from ${name}.`
        : reason === 'BANNED'
          ? `You were banned from ${name}.`
          : reason === 'DELETED'
            ? `${name} was deleted.`
            : `You are no longer a member of ${name}.`;
    notify(text, reason === 'LEFT' ? 'info' : 'error');
    setRemoved((all) => new Set([...all, guildId]));
    const current = routeRef.current;
    if ((current.name === 'guild' || current.name === 'settings') && current.guildId === guildId) navigate(paths.home(), { replace: true });
    refetch({ requestPolicy: 'network-only' });
  };

  let content: ReactNode;
  if (!data && fetching) content = <div className="loading-page" role="status">Loading…</div>;
  else if (!data && error) content = <div className="empty-page" role="alert">Could not load your servers. {error.message}</div>;
  else if (route.name === 'guild' || route.name === 'settings') content = <GuildView key={route.guildId} route={route} />;
  else if (route.name === 'discover') content = <Discover />;
  else if (route.name === 'invite') content = <InvitePage code={route.code} />;
  else if (route.name === 'notFound') content = <Welcome title="Page not found" onCreate={() => setCreating(true)} />;
  else content = joined.length === 0 ? <Welcome title="Welcome!" onCreate={() => setCreating(true)} /> : null;

  return (
    <LayoutContext.Provider value={{ drawerOpen, setDrawerOpen, membersOpen, setMembersOpen }}>
      <VoiceProvider chat={chat}>
        <div className={`shell${drawerOpen ? ' drawer-open' : ''}${membersOpen ? ' members-open' : ''}`}>
          {offline ? (
            <div className="connection-banner" role="status">
              Connection lost. Reconnecting…
            </div>
          ) : null}
          <GuildRail guilds={joined} onCreate={() => setCreating(true)} />
          {route.name === 'guild' || route.name === 'settings' ? null : (
            <aside className="sidebar" aria-label="Home">
              <header className="sidebar-header">
                <h2>Home</h2>
              </header>
              <nav className="sidebar-scroll" aria-label="Home">
                <Link className="channel-link" href={paths.discover()}>
                  Discover public servers
                </Link>
                <button type="button" className="channel-link" onClick={() => setCreating(true)}>
                  Create a server
                </button>
              </nav>
              <VoicePanel />
              <UserPanel />
            </aside>
          )}
          <div className="drawer-backdrop" onClick={() => setDrawerOpen(false)} aria-hidden="true" />
          {content}
          {joined.map((guild) => (
            <GuildWatcher key={guild.id} guildId={guild.id} name={guild.name} onRemoved={onRemoved} />
          ))}
          {creating ? <CreateGuildDialog onClose={() => setCreating(false)} /> : null}
        </div>
      </VoiceProvider>
    </LayoutContext.Provider>
  );
}

function Welcome({ title, onCreate }: { title: string; onCreate: () => void }) {
  const { setDrawerOpen } = useLayout();
  return (
    <main className="main empty-page">
      <button type="button" className="icon-button menu-button" aria-label="Open navigation" onClick={() => setDrawerOpen(true)}>
        ☰
      </button>
      <h1>{title}</h1>
      <p>Servers are where you chat. Create one, join a public one, or open an invite link.</p>
      <div className="button-row">
        <button type="button" className="primary" onClick={onCreate}>
          Create a server
        </button>
        <Link className="button" href={paths.discover()}>
          Discover public servers
        </Link>
      </div>
    </main>
  );
}

/** Follows one guild's events; the cache applies them, this notices being removed. */
function GuildWatcher({
  guildId,
  name,
  onRemoved,
}: {
  guildId: string;
  name: string;
  onRemoved: (guildId: string, name: string, reason: string | null) => void;
}) {
  const client = useClient();
  const latest = useRef({ name, onRemoved });
  latest.current = { name, onRemoved };
  useEffect(() => {
    let cancelled = false;
    let viewerId: string | null = null;
    let reported = false;
    const report = (reason: string | null) => {
      if (reported || cancelled) return;
      reported = true;
      latest.current.onRemoved(guildId, latest.current.name, reason);
    };
    viewerId = client.readQuery(ShellQuery, {})?.data?.viewer?.id ?? null;
    const { unsubscribe } = pipe(
      client.subscription(WatchGuild, { guildId }),
      onEnd(() => {
        if (cancelled) return;
        // The stream ends when the viewer leaves or is removed: check which.
        void client
          .query(Membership, { guildId }, { requestPolicy: 'network-only' })
          .toPromise()
          .then((result) => {
            // NOT_FOUND or no unread summary: no longer a member (a lost connection says neither)
            if (!result.error?.networkError && !result.data?.guild?.viewerUnread) report(null);
          });
      }),
      subscribe((result) => {
        const event = result.data?.guildEvents;
        if (!event) return;
        if (event.__typename === 'MemberLeftEvent' && event.user.id === viewerId) report(event.reason);
        if (event.__typename === 'GuildDeletedEvent') report('DELETED');
      }),
    );
    return () => {
      cancelled = true;
      unsubscribe();
    };
  }, [client, guildId]);
  return null;
}
