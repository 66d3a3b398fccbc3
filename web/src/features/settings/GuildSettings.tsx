// Guild settings for those permitted: overview (name, description, public; ownership transfer
// and deletion for the owner; leaving for the others), invites, roles, members and bans.
// What the viewer may not do is not offered (guild.viewerPermissions).
import type { ResultOf } from '@graphql-typed-document-node/core';
import type { CombinedError } from '@urql/core';
import { type FormEvent, type ReactNode, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { useLayout } from '../../app/Shell';
import { graphql } from '../../gql';
import { describeError } from '../../lib/errors';
import { Link, navigate, paths } from '../../lib/router';
import { fullDate } from '../../lib/time';
import { useNotices } from '../../ui/notices';

const SettingsQuery = graphql(`
  query GuildSettings($guildId: ID!) {
    guild(id: $guildId) {
      id
      name
      description
      isPublic
      owner {
        id
        displayName
      }
      roles {
        id
        name
        position
        permissions
      }
      members(first: 100) {
        edges {
          node {
            user {
              id
              username
              displayName
            }
            roles {
              id
              name
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

const UpdateGuild = graphql(`
  mutation UpdateGuild($id: ID!, $input: UpdateGuildInput!) {
    updateGuild(id: $id, input: $input) {
      id
      name
      description
      isPublic
    }
  }
`);
const DeleteGuild = graphql(`
  mutation DeleteGuild($id: ID!) {
    deleteGuild(id: $id)
  }
`);
const LeaveGuild = graphql(`
  mutation LeaveGuild($guildId: ID!) {
    leaveGuild(guildId: $guildId)
  }
`);
const TransferOwnership = graphql(`
  mutation TransferOwnership($guildId: ID!, $userId: ID!) {
    transferGuildOwnership(guildId: $guildId, userId: $userId) {
      id
      owner {
        id
        displayName
      }
      viewerPermissions
    }
  }
`);
const CreateInvite = graphql(`
  mutation CreateInvite($guildId: ID!, $maxUses: Int, $expiresInSeconds: Int) {
    createInvite(guildId: $guildId, maxUses: $maxUses, expiresInSeconds: $expiresInSeconds) {
      code
      maxUses
      uses
      expiresAt
    }
  }
`);
const CreateRole = graphql(`
  mutation CreateRole($input: CreateRoleInput!) {
    createRole(input: $input) {
      id
      name
      position
      permissions
    }
  }
`);
const AssignRole = graphql(`
  mutation AssignRole($guildId: ID!, $userId: ID!, $roleId: ID!) {
    assignRole(guildId: $guildId, userId: $userId, roleId: $roleId) {
      roles {
        id
        name
      }
    }
  }
`);
const UnassignRole = graphql(`
  mutation UnassignRole($guildId: ID!, $userId: ID!, $roleId: ID!) {
    unassignRole(guildId: $guildId, userId: $userId, roleId: $roleId) {
      roles {
        id
        name
      }
    }
  }
`);
const Kick = graphql(`
  mutation SettingsKick($guildId: ID!, $userId: ID!) {
    kickMember(guildId: $guildId, userId: $userId)
  }
`);
const Ban = graphql(`
  mutation SettingsBan($guildId: ID!, $userId: ID!, $reason: String) {
    banMember(guildId: $guildId, userId: $userId, reason: $reason)
  }
`);
const Unban = graphql(`
  mutation Unban($guildId: ID!, $userId: ID!) {
    unbanMember(guildId: $guildId, userId: $userId)
  }
`);
const FindUser = graphql(`
  query FindUser($search: String!) {
    users(search: $search, first: 5) {
      edges {
        node {
          id
          username
          displayName
        }
      }
    }
  }
`);

const PERMISSIONS = [
  ['ADMINISTRATOR', 'Administrator (every permission)'],
  ['MANAGE_GUILD', 'Manage server'],
  ['MANAGE_ROLES', 'Manage roles'],
  ['MANAGE_CHANNELS', 'Manage channels'],
  ['MANAGE_MESSAGES', 'Manage messages'],
  ['KICK_MEMBERS', 'Kick members'],
  ['BAN_MEMBERS', 'Ban members'],
  ['CREATE_INVITE', 'Create invites'],
  ['SEND_MESSAGES', 'Send messages'],
  ['ADD_REACTIONS', 'Add reactions'],
  ['ATTACH_FILES', 'Attach files'],
  ['MENTION_EVERYONE', 'Mention everyone'],
] as const;
type Permission = (typeof PERMISSIONS)[number][0];

const TABS = [
  { id: 'overview', label: 'Overview', needs: null },
  { id: 'invites', label: 'Invites', needs: 'CREATE_INVITE' },
  { id: 'roles', label: 'Roles', needs: 'MANAGE_ROLES' },
  { id: 'members', label: 'Members', needs: null },
  { id: 'bans', label: 'Bans', needs: 'BAN_MEMBERS' },
] as const;

export function GuildSettings({
  guildId,
  tab,
  isOwner,
  permissions,
}: {
  guildId: string;
  tab: string | null;
  isOwner: boolean;
  permissions: Set<string>;
}) {
  const [{ data, fetching, error }] = useQuery({ query: SettingsQuery, variables: { guildId } });
  const { setDrawerOpen } = useLayout();
  const tabs = TABS.filter((t) => !t.needs || permissions.has(t.needs));
  const current = tabs.find((t) => t.id === tab) ?? tabs[0]!;
  const guild = data?.guild;
  let body: ReactNode = null;
  if (!data && fetching) body = <p role="status">Loading settings…</p>;
  else if (!guild) body = <p role="alert">{error ? describeError(error, 'load the settings') : 'Server not found.'}</p>;
  else if (current.id === 'overview') body = <Overview guild={guild} isOwner={isOwner} canManage={permissions.has('MANAGE_GUILD')} />;
  else if (current.id === 'invites') body = <Invites guildId={guildId} />;
  else if (current.id === 'roles') body = <Roles guildId={guildId} roles={guild.roles} permissions={permissions} />;
  else if (current.id === 'members') body = <Members guild={guild} viewerId={data?.viewer?.id ?? ''} permissions={permissions} />;
  else body = <Bans guildId={guildId} />;
  return (
    <main className="main page settings" aria-labelledby="settings-title">
      <header className="main-header">
        <button type="button" className="icon-button menu-button" aria-label="Open navigation" onClick={() => setDrawerOpen(true)}>
          ☰
        </button>
        <h1 id="settings-title">Server settings</h1>
        <span className="spacer" />
        <Link className="button" href={paths.guild(guildId)}>
          Back to chat
        </Link>
      </header>
      <nav className="tabs" aria-label="Settings sections">
        {tabs.map((t) => (
          <Link key={t.id} href={paths.settings(guildId, t.id)} className={`tab${t.id === current.id ? ' active' : ''}`} aria-current={t.id === current.id ? 'page' : undefined}>
            {t.label}
          </Link>
        ))}
      </nav>
      <div className="page-body">{body}</div>
    </main>
  );
}

type SettingsGuild = NonNullable<ResultOf<typeof SettingsQuery>['guild']>;

function useAction() {
  const { notify } = useNotices();
  return async (run: () => Promise<{ error?: CombinedError }>, what: string, done?: string) => {
    const result = await run();
    if (result.error) notify(describeError(result.error, what), 'error');
    else if (done) notify(done);
    return !result.error;
  };
}

function Overview({ guild, isOwner, canManage }: { guild: SettingsGuild; isOwner: boolean; canManage: boolean }) {
  const [{ fetching }, update] = useMutation(UpdateGuild);
  const [, remove] = useMutation(DeleteGuild);
  const [, leave] = useMutation(LeaveGuild);
  const [, transfer] = useMutation(TransferOwnership);
  const act = useAction();
  const [newOwner, setNewOwner] = useState('');
  const others = guild.members.edges.map((e) => e.node.user).filter((u) => u.id !== guild.owner.id);

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    await act(
      () =>
        update({
          id: guild.id,
          input: {
            name: String(form.get('name') ?? '').trim(),
            description: String(form.get('description') ?? '').trim(),
            isPublic: form.get('isPublic') === 'on',
          },
        }),
      'save the settings',
      'Settings saved.',
    );
  };
  return (
    <>
      <section className="settings-section">
        <h2>About</h2>
        <form className="form" onSubmit={save}>
          <div className="field">
            <label htmlFor="settings-name">Server name</label>
            <input id="settings-name" name="name" defaultValue={guild.name} required maxLength={100} disabled={!canManage} />
          </div>
          <div className="field">
            <label htmlFor="settings-description">Description</label>
            <textarea id="settings-description" name="description" defaultValue={guild.description ?? ''} maxLength={500} disabled={!canManage} />
          </div>
          <label className="checkbox">
            <input type="checkbox" name="isPublic" defaultChecked={guild.isPublic} disabled={!canManage} /> Public: anyone can find and join it
          </label>
          <p className="muted">Owner: {guild.owner.displayName}</p>
          {canManage ? (
            <div className="button-row">
              <button type="submit" className="primary" disabled={fetching}>
                Save
              </button>
            </div>
          ) : (
            <p className="muted">You need the Manage server permission to change these.</p>
          )}
        </form>
      </section>
      {isOwner ? (
        <>
          <section className="settings-section">
            <h2>Transfer ownership</h2>
            <div className="form-inline">
              <label htmlFor="transfer-to">New owner</label>
              <select id="transfer-to" value={newOwner} onChange={(e) => setNewOwner(e.target.value)}>
                <option value="">Choose a member…</option>
                {others.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.displayName} (@{u.username})
                  </option>
                ))}
              </select>
              <button
                type="button"
                disabled={!newOwner}
                onClick={async () => {
                  const name = others.find((u) => u.id === newOwner)?.displayName ?? 'them';
                  if (!window.confirm(`Make ${name} the owner of ${guild.name}? You will lose owner rights.`)) return;
                  await act(() => transfer({ guildId: guild.id, userId: newOwner }), 'transfer ownership', `${name} now owns ${guild.name}.`);
                }}
              >
                Transfer
              </button>
            </div>
          </section>
          <section className="settings-section danger-zone">
            <h2>Delete server</h2>
            <p>Deletes the server, its channels and messages for everyone.</p>
            <button
              type="button"
              className="danger"
              onClick={async () => {
                if (!window.confirm(`Delete ${guild.name} for everyone? This cannot be undone.`)) return;
                if (await act(() => remove({ id: guild.id }), 'delete the server')) navigate(paths.home(), { replace: true });
              }}
            >
              Delete {guild.name}
            </button>
          </section>
        </>
      ) : (
        <section className="settings-section danger-zone">
          <h2>Leave server</h2>
          <button
            type="button"
            className="danger"
            onClick={async () => {
              if (!window.confirm(`Leave ${guild.name}?`)) return;
              if (await act(() => leave({ guildId: guild.id }), 'leave the server')) navigate(paths.home(), { replace: true });
            }}
          >
            Leave {guild.name}
          </button>
        </section>
      )}
    </>
  );
}

function Invites({ guildId }: { guildId: string }) {
  const [{ fetching }, create] = useMutation(CreateInvite);
  const [invites, setInvites] = useState<{ code: string; maxUses: number | null; expiresAt: string | null }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const { notify } = useNotices();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const maxUses = Number(form.get('maxUses')) || undefined;
    const expiresInSeconds = Number(form.get('expires')) || undefined;
    const result = await create({ guildId, maxUses, expiresInSeconds });
    if (result.data) {
      setError(null);
      setInvites((all) => [result.data!.createInvite, ...all]);
    } else setError(describeError(result.error, 'create an invite'));
  };
  const copy = async (link: string, input: HTMLInputElement | null) => {
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      // no clipboard API outside secure contexts: select it for Ctrl+C
      input?.select();
      document.execCommand?.('copy');
    }
    notify('Invite link copied.');
  };
  return (
    <section className="settings-section">
      <h2>Invite people</h2>
      <form className="form-inline" onSubmit={submit}>
        <label htmlFor="invite-max-uses">Max uses</label>
        <select id="invite-max-uses" name="maxUses" defaultValue="">
          <option value="">No limit</option>
          {[1, 5, 10, 25, 100].map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <label htmlFor="invite-expires">Expires after</label>
        <select id="invite-expires" name="expires" defaultValue="86400">
          <option value="1800">30 minutes</option>
          <option value="3600">1 hour</option>
          <option value="86400">1 day</option>
          <option value="604800">7 days</option>
          <option value="">Never</option>
        </select>
        <button type="submit" className="primary" disabled={fetching}>
          Create invite link
        </button>
      </form>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <ul className="invite-list">
        {invites.map((invite) => {
          const link = new URL(paths.invite(invite.code), window.location.origin).toString();
          let input: HTMLInputElement | null = null;
          return (
            <li key={invite.code} className="invite">
              <label className="sr-only" htmlFor={`invite-${invite.code}`}>
                Invite link
              </label>
              <input id={`invite-${invite.code}`} readOnly value={link} ref={(el) => void (input = el)} data-testid="invite-link" onFocus={(e) => e.target.select()} />
              <button type="button" onClick={() => copy(link, input)}>
                Copy link
              </button>
              <span className="muted">
                {invite.maxUses ? `${invite.maxUses} use${invite.maxUses === 1 ? '' : 's'}` : 'unlimited uses'},{' '}
                {invite.expiresAt ? `expires ${fullDate(invite.expiresAt)}` : 'never expires'}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Roles({ guildId, roles, permissions }: { guildId: string; roles: SettingsGuild['roles']; permissions: Set<string> }) {
  const [{ fetching }, create] = useMutation(CreateRole);
  const act = useAction();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const chosen = PERMISSIONS.map(([p]) => p).filter((p) => form.get(p) === 'on');
    const ok = await act(
      () => create({ input: { guildId, name: String(form.get('name') ?? '').trim(), permissions: chosen as Permission[] } }),
      'create the role',
      'Role created.',
    );
    if (ok) formEl.reset();
  };
  return (
    <>
      <section className="settings-section">
        <h2>Roles</h2>
        <ul className="role-list">
          {roles.map((role) => (
            <li key={role.id}>
              <strong>{role.name}</strong> <span className="muted">{role.permissions.map((p) => PERMISSIONS.find(([k]) => k === p)?.[1] ?? p).join(', ') || 'no permissions'}</span>
            </li>
          ))}
        </ul>
      </section>
      <section className="settings-section">
        <h2>Create a role</h2>
        <form className="form" onSubmit={submit}>
          <div className="field">
            <label htmlFor="role-name">Role name</label>
            <input id="role-name" name="name" required maxLength={100} />
          </div>
          <fieldset className="permission-grid">
            <legend>Permissions</legend>
            {PERMISSIONS.map(([value, label]) => (
              <label key={value} className="checkbox">
                <input type="checkbox" name={value} disabled={!permissions.has(value) && !permissions.has('ADMINISTRATOR')} /> {label}
              </label>
            ))}
          </fieldset>
          <div className="button-row">
            <button type="submit" className="primary" disabled={fetching}>
              Create role
            </button>
          </div>
        </form>
      </section>
    </>
  );
}

function Members({ guild, viewerId, permissions }: { guild: SettingsGuild; viewerId: string; permissions: Set<string> }) {
  const [, assign] = useMutation(AssignRole);
  const [, unassign] = useMutation(UnassignRole);
  const [, kick] = useMutation(Kick);
  const [, ban] = useMutation(Ban);
  const act = useAction();
  const assignable = guild.roles.filter((r) => r.position > 0);
  const canRoles = permissions.has('MANAGE_ROLES');
  return (
    <section className="settings-section">
      <h2>Members</h2>
      <ul className="settings-members">
        {guild.members.edges.map(({ node }) => {
          const { user } = node;
          const isOwner = user.id === guild.owner.id;
          const self = user.id === viewerId;
          return (
            <li key={user.id}>
              <div>
                <strong>{user.displayName}</strong> <span className="muted">@{user.username}</span>
                {isOwner ? <span className="muted"> (owner)</span> : null}
              </div>
              {canRoles && assignable.length > 0 ? (
                <fieldset className="role-checks">
                  <legend className="sr-only">Roles of {user.displayName}</legend>
                  {assignable.map((role) => {
                    const has = node.roles.some((r) => r.id === role.id);
                    return (
                      <label key={role.id} className="checkbox">
                        <input
                          type="checkbox"
                          checked={has}
                          onChange={() =>
                            act(
                              () => (has ? unassign : assign)({ guildId: guild.id, userId: user.id, roleId: role.id }),
                              has ? 'remove the role' : 'assign the role',
                            )
                          }
                        />{' '}
                        {role.name}
                      </label>
                    );
                  })}
                </fieldset>
              ) : node.roles.length ? (
                <span className="muted">{node.roles.map((r) => r.name).join(', ')}</span>
              ) : null}
              <div className="button-row">
                {permissions.has('KICK_MEMBERS') && !isOwner && !self ? (
                  <button
                    type="button"
                    onClick={() =>
                      window.confirm(`Kick ${user.displayName}?`) &&
                      act(() => kick({ guildId: guild.id, userId: user.id }), `kick ${user.displayName}`, `${user.displayName} was kicked.`)
                    }
                  >
                    Kick
                  </button>
                ) : null}
                {permissions.has('BAN_MEMBERS') && !isOwner && !self ? (
                  <button
                    type="button"
                    className="danger"
                    onClick={() =>
                      window.confirm(`Ban ${user.displayName}?`) &&
                      act(() => ban({ guildId: guild.id, userId: user.id }), `ban ${user.displayName}`, `${user.displayName} was banned.`)
                    }
                  >
                    Ban
                  </button>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Bans({ guildId }: { guildId: string }) {
  const client = useClient();
  const [, unban] = useMutation(Unban);
  const act = useAction();
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formEl = event.currentTarget;
    const username = String(new FormData(formEl).get('username') ?? '').trim().replace(/^@/, '');
    const found = await client.query(FindUser, { search: username }, { requestPolicy: 'network-only' }).toPromise();
    const user = found.data?.users.edges.map((e) => e.node).find((u) => u.username.toLowerCase() === username.toLowerCase());
    if (!user) {
      setError(found.error ? describeError(found.error, 'find the user') : `No user named @${username}.`);
      return;
    }
    setError(null);
    if (await act(() => unban({ guildId, userId: user.id }), `unban @${username}`, `@${username} can join again.`)) formEl.reset();
  };
  return (
    <section className="settings-section">
      <h2>Unban a user</h2>
      <p className="muted">Banned users cannot rejoin until unbanned. Enter their exact username.</p>
      <form className="form-inline" onSubmit={submit}>
        <label htmlFor="unban-username">Username</label>
        <input id="unban-username" name="username" required />
        <button type="submit">Unban</button>
      </form>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
