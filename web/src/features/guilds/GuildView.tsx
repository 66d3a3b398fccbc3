// One guild: its channels on the left, the open channel (or the settings) in the middle, its
// members on the right. Entering it starts the guild's presence stream before reading state.
import { useEffect } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { useLayout } from '../../app/Shell';
import type { ResultOf } from '@graphql-typed-document-node/core';
import { getFragmentData, graphql } from '../../gql';
import { describeError } from '../../lib/errors';
import { Link, type Route, navigate, paths } from '../../lib/router';
import { useNotices } from '../../ui/notices';
import { ChannelList, ChannelListFragment } from '../channels/ChannelList';
import { MemberList } from '../members/MemberList';
import { UserPanel } from '../members/UserPanel';
import { ChannelView } from '../messages/ChannelView';
import { GuildSettings } from '../settings/GuildSettings';
import { VoiceStatesEvents } from '../voice/operations';
import { VoicePanel } from '../voice/VoicePanel';

export const GuildViewQuery = graphql(`
  query GuildView($guildId: ID!) {
    guild(id: $guildId) {
      id
      name
      description
      isPublic
      memberCount
      owner {
        id
      }
      viewerPermissions
      viewerUnread {
        unreadMessageCount
      }
      ...ChannelList_guild
    }
    viewer {
      id
    }
  }
`);

const GuildPresence = graphql(`
  subscription GuildPresence($guildId: ID!) {
    presence(guildId: $guildId) {
      guildId
      status
      user {
        id
        status
      }
    }
  }
`);

const JoinPublic = graphql(`
  mutation JoinPublicFromView($guildId: ID!) {
    joinPublicGuild(guildId: $guildId) {
      id
    }
  }
`);

export type GuildRoute = Extract<Route, { name: 'guild' | 'settings' }>;

export function GuildView({ route }: { route: GuildRoute }) {
  const { guildId } = route;
  // subscribe first, then read: nothing falls between the two
  useSubscription({ query: GuildPresence, variables: { guildId } });
  useSubscription({ query: VoiceStatesEvents, variables: { guildId } });
  const [{ data, fetching, error }] = useQuery({ query: GuildViewQuery, variables: { guildId } });
  const [, joinPublic] = useMutation(JoinPublic);
  const { notify } = useNotices();
  const { setDrawerOpen } = useLayout();
  const guild = data?.guild;
  const isMember = Boolean(guild?.viewerUnread);
  const channelIds = firstTextChannel(data);

  useEffect(() => {
    if (route.name === 'guild' && !route.channelId && channelIds) navigate(paths.guild(guildId, channelIds), { replace: true });
  }, [route, guildId, channelIds]);

  if (!data && fetching) return <div className="main loading-page" role="status">Loading server…</div>;
  if (!data && error) return <div className="main empty-page" role="alert">{describeError(error, 'load this server')}</div>;
  if (!guild || (!isMember && !guild.isPublic)) {
    return (
      <main className="main empty-page">
        <h1>Server not found</h1>
        <p>It does not exist, or you are not a member.</p>
        <Link className="button" href={paths.home()}>
          Go home
        </Link>
      </main>
    );
  }
  if (!isMember) {
    return (
      <main className="main empty-page">
        <h1>{guild.name}</h1>
        {guild.description ? <p>{guild.description}</p> : null}
        <button
          type="button"
          className="primary"
          onClick={async () => {
            const result = await joinPublic({ guildId });
            if (result.error) notify(describeError(result.error, 'join the server'), 'error');
          }}
        >
          Join {guild.name}
        </button>
      </main>
    );
  }

  const permissions = new Set(guild.viewerPermissions);
  const isOwner = guild.owner.id === data?.viewer?.id;
  return (
    <>
      <aside className="sidebar" aria-label={`${guild.name} channels`}>
        <header className="sidebar-header">
          <h2 title={guild.name}>{guild.name}</h2>
          <Link
            className="icon-button"
            href={paths.settings(guildId)}
            aria-label="Server settings"
            title="Server settings"
            aria-current={route.name === 'settings' ? 'page' : undefined}
          >
            ⚙
          </Link>
        </header>
        <ChannelList guild={guild} currentChannelId={route.name === 'guild' ? route.channelId : null} permissions={permissions} viewerId={data?.viewer?.id ?? null} />
        <VoicePanel />
        <UserPanel />
      </aside>
      {route.name === 'settings' ? (
        <GuildSettings guildId={guildId} tab={route.tab} isOwner={isOwner} permissions={permissions} />
      ) : route.channelId ? (
        <ChannelView key={route.channelId} guildId={guildId} channelId={route.channelId} permissions={permissions} />
      ) : (
        <main className="main empty-page">
          <button type="button" className="icon-button menu-button" aria-label="Open navigation" onClick={() => setDrawerOpen(true)}>
            ☰
          </button>
          <p>This server has no text channels yet.</p>
        </main>
      )}
      <MemberList guildId={guildId} ownerId={guild.owner.id} permissions={permissions} />
    </>
  );
}

function firstTextChannel(data: ResultOf<typeof GuildViewQuery> | undefined): string | null {
  if (!data?.guild) return null;
  return getFragmentData(ChannelListFragment, data.guild).channels.find((c) => c.type === 'TEXT')?.id ?? null;
}
