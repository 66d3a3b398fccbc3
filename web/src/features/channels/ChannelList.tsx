// A guild's channels, in position order, with unread and mention counts; create, rename,
// move and delete for members with MANAGE_CHANNELS (the controls are absent for others).
import type { ResultOf } from '@graphql-typed-document-node/core';
import { type FormEvent, useState } from 'react';
import { useMutation } from 'urql';
import { type FragmentType, getFragmentData, graphql } from '../../gql';
import { describeError } from '../../lib/errors';
import { Link, navigate, paths } from '../../lib/router';
import { Dialog } from '../../ui/Dialog';
import { SpeakerIcon } from '../../ui/icons';
import { useNotices } from '../../ui/notices';
import { VoiceParticipants } from '../voice/VoiceParticipants';
import { useVoice } from '../voice/VoiceProvider';

export const ChannelListFragment = graphql(`
  fragment ChannelList_guild on Guild {
    id
    channels {
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
`);

const CreateChannel = graphql(`
  mutation CreateChannel($input: CreateChannelInput!) {
    createChannel(input: $input) {
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
      guild {
        id
      }
    }
  }
`);

const UpdateChannel = graphql(`
  mutation UpdateChannel($id: ID!, $input: UpdateChannelInput!) {
    updateChannel(id: $id, input: $input) {
      id
      name
      topic
      position
      guild {
        id
      }
    }
  }
`);

const DeleteChannel = graphql(`
  mutation DeleteChannel($id: ID!) {
    deleteChannel(id: $id)
  }
`);

type Channel = ResultOf<typeof ChannelListFragment>['channels'][number];

export function ChannelList({
  guild: masked,
  currentChannelId,
  permissions,
  viewerId,
}: {
  guild: FragmentType<typeof ChannelListFragment>;
  currentChannelId: string | null;
  permissions: Set<string>;
  viewerId: string | null;
}) {
  const guild = getFragmentData(ChannelListFragment, masked);
  const voice = useVoice();
  const canManage = permissions.has('MANAGE_CHANNELS');
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Channel | null>(null);
  const channels = [...guild.channels].sort((a, b) => a.position - b.position);
  const voiceChannels = channels.filter((c) => c.type === 'VOICE').map((c) => ({ id: c.id, name: c.name }));
  return (
    <nav className="sidebar-scroll" aria-label="Channels">
      <div className="section-title">
        <span id="channels-heading">Channels</span>
        {canManage ? (
          <button type="button" className="icon-button" aria-label="Create a channel" title="Create a channel" onClick={() => setCreating(true)}>
            +
          </button>
        ) : null}
      </div>
      {channels.length === 0 ? <p className="empty small">No channels yet.</p> : null}
      <ul aria-labelledby="channels-heading">
        {channels.map((channel) => {
          const unread = channel.unreadCount > 0 && channel.id !== currentChannelId;
          const label = `${channel.name}${channel.mentionCount ? `, ${channel.mentionCount} mentions` : ''}${unread ? ', unread' : ''}`;
          const editButton = canManage ? (
            <button
              type="button"
              className="icon-button channel-edit"
              aria-label={`Edit channel ${channel.name}`}
              title="Edit channel"
              onClick={() => setEditing(channel)}
            >
              ✎
            </button>
          ) : null;
          if (channel.type === 'VOICE') {
            const connected = voice.channel?.id === channel.id;
            return (
              <li key={channel.id} className="voice-channel" data-testid="voice-channel" data-channel-id={channel.id}>
                <div className={`channel-row${connected ? ' active' : ''}`}>
                  <button
                    type="button"
                    className="channel-link"
                    aria-label={`${channel.name}, voice channel${connected ? ', connected' : ''}`}
                    aria-pressed={connected}
                    title={connected ? 'You are in this voice channel' : 'Join voice'}
                    onClick={() => {
                      if (!connected) voice.join({ id: channel.id, name: channel.name, guildId: guild.id });
                    }}
                  >
                    <span aria-hidden="true" className="hash">
                      <SpeakerIcon size={16} />
                    </span>
                    <span className="channel-name">{channel.name}</span>
                  </button>
                  {editButton}
                </div>
                <VoiceParticipants
                  states={channel.voiceStates}
                  guildId={guild.id}
                  permissions={permissions}
                  viewerId={viewerId}
                  voiceChannels={voiceChannels}
                />
              </li>
            );
          }
          return (
            <li key={channel.id} className={`channel-row${channel.id === currentChannelId ? ' active' : ''}${unread ? ' unread' : ''}`}>
              <Link
                className="channel-link"
                href={paths.guild(guild.id, channel.id)}
                aria-current={channel.id === currentChannelId ? 'page' : undefined}
                aria-label={label}
              >
                <span aria-hidden="true" className="hash">
                  #
                </span>
                <span className="channel-name">{channel.name}</span>
                {channel.mentionCount > 0 && channel.id !== currentChannelId ? (
                  <span className="badge inline">{channel.mentionCount}</span>
                ) : null}
              </Link>
              {editButton}
            </li>
          );
        })}
      </ul>
      {creating ? <CreateChannelDialog guildId={guild.id} onClose={() => setCreating(false)} /> : null}
      {editing ? (
        <EditChannelDialog
          channel={editing}
          neighbours={neighbours(channels, editing.id)}
          guildId={guild.id}
          isCurrent={editing.id === currentChannelId}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </nav>
  );
}

/** The positions a channel takes when moved up or down one place. */
function neighbours(channels: Channel[], id: string): [number | null, number | null] {
  const index = channels.findIndex((c) => c.id === id);
  return [channels[index - 1]?.position ?? null, channels[index + 1]?.position ?? null];
}

function CreateChannelDialog({ guildId, onClose }: { guildId: string; onClose: () => void }) {
  const [{ fetching }, create] = useMutation(CreateChannel);
  const [error, setError] = useState<string | null>(null);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const result = await create({
      input: {
        guildId,
        name: String(form.get('name') ?? '').trim(),
        topic: String(form.get('topic') ?? '').trim() || undefined,
        type: form.get('type') === 'VOICE' ? 'VOICE' : 'TEXT',
      },
    });
    if (result.data) {
      onClose();
      if (result.data.createChannel.type === 'TEXT') navigate(paths.guild(guildId, result.data.createChannel.id));
    } else setError(describeError(result.error, 'create the channel'));
  }
  return (
    <Dialog title="Create a channel" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="channel-name">Channel name</label>
          <input id="channel-name" name="name" required maxLength={100} autoFocus />
        </div>
        <div className="field">
          <label htmlFor="channel-topic">Topic (optional)</label>
          <input id="channel-topic" name="topic" maxLength={1024} />
        </div>
        <fieldset className="field">
          <legend>Type</legend>
          <label className="checkbox">
            <input type="radio" name="type" value="TEXT" defaultChecked /> Text
          </label>
          <label className="checkbox">
            <input type="radio" name="type" value="VOICE" /> Voice
          </label>
        </fieldset>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="button-row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={fetching}>
            Create channel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function EditChannelDialog({
  channel,
  neighbours: [above, below],
  guildId,
  isCurrent,
  onClose,
}: {
  channel: Channel;
  neighbours: [number | null, number | null];
  guildId: string;
  isCurrent: boolean;
  onClose: () => void;
}) {
  const [{ fetching }, update] = useMutation(UpdateChannel);
  const [, remove] = useMutation(DeleteChannel);
  const [error, setError] = useState<string | null>(null);
  const { notify } = useNotices();
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const result = await update({
      id: channel.id,
      input: { name: String(form.get('name') ?? '').trim(), topic: String(form.get('topic') ?? '').trim() },
    });
    if (result.data) onClose();
    else setError(describeError(result.error, 'update the channel'));
  }
  async function move(position: number | null) {
    if (position === null) return;
    const result = await update({ id: channel.id, input: { position } });
    if (result.error) setError(describeError(result.error, 'move the channel'));
  }
  async function destroy() {
    if (!window.confirm(`Delete #${channel.name} and all its messages?`)) return;
    const result = await remove({ id: channel.id });
    if (result.error) setError(describeError(result.error, 'delete the channel'));
    else {
      onClose();
      notify(`#${channel.name} was deleted.`);
      if (isCurrent) navigate(paths.guild(guildId), { replace: true });
    }
  }
  return (
    <Dialog title={`Edit #${channel.name}`} onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="edit-channel-name">Channel name</label>
          <input id="edit-channel-name" name="name" required maxLength={100} defaultValue={channel.name} autoFocus />
        </div>
        <div className="field">
          <label htmlFor="edit-channel-topic">Topic</label>
          <input id="edit-channel-topic" name="topic" maxLength={1024} defaultValue={channel.topic ?? ''} />
        </div>
        <div className="button-row">
          <button type="button" onClick={() => move(above)} disabled={above === null || fetching}>
            Move up
          </button>
          <button type="button" onClick={() => move(below)} disabled={below === null || fetching}>
            Move down
          </button>
        </div>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="button-row">
          <button type="button" className="danger" onClick={destroy}>
            Delete channel
          </button>
          <span className="spacer" />
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={fetching}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}
