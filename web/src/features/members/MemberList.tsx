// The guild's members with presence dots, online first; kick and ban for those permitted.
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { useLayout } from '../../app/Shell';
import { graphql } from '../../gql';
import { describeError } from '../../lib/errors';
import { Avatar, statusLabel } from '../../ui/Avatar';
import { useNotices } from '../../ui/notices';

export const GuildMembersQuery = graphql(`
  query GuildMembers($guildId: ID!) {
    guild(id: $guildId) {
      id
      memberCount
      onlineMembers {
        id
      }
      members(first: 100) {
        totalCount
        edges {
          node {
            nickname
            joinedAt
            user {
              id
              username
              displayName
              status
            }
            roles {
              id
              name
              position
            }
          }
        }
      }
    }
    viewer {
      id
    }
  }
`);

const KickMember = graphql(`
  mutation KickMember($guildId: ID!, $userId: ID!) {
    kickMember(guildId: $guildId, userId: $userId)
  }
`);

const BanMember = graphql(`
  mutation BanMember($guildId: ID!, $userId: ID!, $reason: String) {
    banMember(guildId: $guildId, userId: $userId, reason: $reason)
  }
`);

export function useGuildMembers(guildId: string) {
  const [{ data, fetching, error }] = useQuery({ query: GuildMembersQuery, variables: { guildId } });
  const members = (data?.guild?.members.edges ?? []).map((edge) => edge.node);
  return { members, data, fetching, error, viewerId: data?.viewer?.id ?? null };
}

export function MemberList({ guildId, ownerId, permissions }: { guildId: string; ownerId: string; permissions: Set<string> }) {
  const { members, data, fetching, error, viewerId } = useGuildMembers(guildId);
  const { setMembersOpen } = useLayout();
  const isOnline = (m: (typeof members)[number]) => m.user.status !== 'OFFLINE';
  const sorted = [...members].sort((a, b) => a.user.displayName.localeCompare(b.user.displayName));
  const onlineMembers = sorted.filter(isOnline);
  const offlineMembers = sorted.filter((m) => !isOnline(m));
  return (
    <aside className="members" aria-label="Members">
      <header className="members-header">
        <h2>Members{data?.guild ? ` — ${data.guild.memberCount}` : ''}</h2>
        <button type="button" className="icon-button members-close" aria-label="Close member list" onClick={() => setMembersOpen(false)}>
          ×
        </button>
      </header>
      <div className="members-scroll">
        {fetching && !data ? <p role="status">Loading members…</p> : null}
        {error && !data ? <p role="alert">{describeError(error, 'load the members')}</p> : null}
        <MemberGroup title={`Online — ${onlineMembers.length}`} members={onlineMembers} {...{ guildId, ownerId, permissions, viewerId }} />
        <MemberGroup title={`Offline — ${offlineMembers.length}`} members={offlineMembers} offline {...{ guildId, ownerId, permissions, viewerId }} />
      </div>
    </aside>
  );
}

type Member = ReturnType<typeof useGuildMembers>['members'][number];

function MemberGroup({
  title,
  members,
  offline = false,
  guildId,
  ownerId,
  permissions,
  viewerId,
}: {
  title: string;
  members: Member[];
  offline?: boolean;
  guildId: string;
  ownerId: string;
  permissions: Set<string>;
  viewerId: string | null;
}) {
  if (members.length === 0) return null;
  return (
    <section>
      <h3 className="section-title">{title}</h3>
      <ul>
        {members.map((member) => (
          <MemberRow key={member.user.id} member={member} offline={offline} {...{ guildId, ownerId, permissions, viewerId }} />
        ))}
      </ul>
    </section>
  );
}

function MemberRow({
  member,
  offline,
  guildId,
  ownerId,
  permissions,
  viewerId,
}: {
  member: Member;
  offline: boolean;
  guildId: string;
  ownerId: string;
  permissions: Set<string>;
  viewerId: string | null;
}) {
  const [open, setOpen] = useState(false);
  const [, kick] = useMutation(KickMember);
  const [, ban] = useMutation(BanMember);
  const { notify } = useNotices();
  const status = offline ? 'OFFLINE' : member.user.status;
  const isSelf = member.user.id === viewerId;
  const isOwner = member.user.id === ownerId;
  const canKick = permissions.has('KICK_MEMBERS') && !isSelf && !isOwner;
  const canBan = permissions.has('BAN_MEMBERS') && !isSelf && !isOwner;
  const name = member.nickname ?? member.user.displayName;

  const act = async (what: 'kick' | 'ban') => {
    setOpen(false);
    if (!window.confirm(`${what === 'kick' ? 'Kick' : 'Ban'} ${name}?`)) return;
    const result = what === 'kick' ? await kick({ guildId, userId: member.user.id }) : await ban({ guildId, userId: member.user.id });
    notify(result.error ? describeError(result.error, `${what} ${name}`) : `${name} was ${what === 'kick' ? 'kicked' : 'banned'}.`, result.error ? 'error' : 'info');
  };

  return (
    <li className={`member${offline ? ' offline' : ''}`} data-testid="member" data-user-id={member.user.id} data-status={status}>
      <Avatar id={member.user.id} name={name} size={32} status={status} />
      <span className="member-name">
        {name}
        {isOwner ? (
          <span className="owner-crown" title="Server owner" aria-label="owner">
            {' '}
            ♛
          </span>
        ) : null}
        <span className="sr-only">, {statusLabel[status] ?? status}</span>
        {member.roles.length ? <span className="member-roles">{member.roles.map((r) => r.name).join(', ')}</span> : null}
      </span>
      {canKick || canBan ? (
        <div className="member-menu">
          <button type="button" className="icon-button" aria-label={`Actions for ${name}`} aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            ⋯
          </button>
          {open ? (
            <div className="menu" role="menu">
              {canKick ? (
                <button type="button" role="menuitem" onClick={() => act('kick')}>
                  Kick {name}
                </button>
              ) : null}
              {canBan ? (
                <button type="button" role="menuitem" className="danger" onClick={() => act('ban')}>
                  Ban {name}
                </button>
              ) : null}
            </div>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}
