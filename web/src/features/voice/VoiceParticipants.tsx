// Who is in a voice channel, under it in the channel list: speaking (a ring), muted and deafened
// (their own choice, or a moderator's in red), and, for moderators, server mute, server deafen,
// disconnect and move to another voice channel.
import type { ResultOf } from '@graphql-typed-document-node/core';
import { useState } from 'react';
import { useMutation } from 'urql';
import { type FragmentType, getFragmentData } from '../../gql';
import { describeError } from '../../lib/errors';
import { Avatar } from '../../ui/Avatar';
import { HeadphonesIcon, MicIcon } from '../../ui/icons';
import { useNotices } from '../../ui/notices';
import { DisconnectVoiceMember, MoveVoiceMember, SetMemberVoiceState, VoiceParticipantFragment } from './operations';

type State = ResultOf<typeof VoiceParticipantFragment>;

export function VoiceParticipants({
  states: masked,
  guildId,
  permissions,
  viewerId,
  voiceChannels,
}: {
  states: readonly FragmentType<typeof VoiceParticipantFragment>[];
  guildId: string;
  permissions: Set<string>;
  viewerId: string | null;
  /** the guild's voice channels, to move someone to */
  voiceChannels: { id: string; name: string }[];
}) {
  const states = getFragmentData(VoiceParticipantFragment, masked);
  if (states.length === 0) return null;
  return (
    <ul className="voice-participants" aria-label="In this voice channel">
      {states.map((state) => (
        <Participant
          key={state.user.id}
          state={state}
          guildId={guildId}
          permissions={permissions}
          isSelf={state.user.id === viewerId}
          voiceChannels={voiceChannels.filter((c) => c.id !== state.channel.id)}
        />
      ))}
    </ul>
  );
}

function Participant({
  state,
  guildId,
  permissions,
  isSelf,
  voiceChannels,
}: {
  state: State;
  guildId: string;
  permissions: Set<string>;
  isSelf: boolean;
  voiceChannels: { id: string; name: string }[];
}) {
  const [open, setOpen] = useState(false);
  const [, setMember] = useMutation(SetMemberVoiceState);
  const [, disconnect] = useMutation(DisconnectVoiceMember);
  const [, move] = useMutation(MoveVoiceMember);
  const { notify } = useNotices();
  const admin = permissions.has('ADMINISTRATOR');
  const canMute = admin || permissions.has('MUTE_MEMBERS');
  const canDeafen = admin || permissions.has('DEAFEN_MEMBERS');
  const canMove = admin || permissions.has('MOVE_MEMBERS');
  const moderator = !isSelf && (canMute || canDeafen || canMove);
  const name = state.user.displayName;
  const userId = state.user.id;

  const act = async (what: string, run: () => Promise<{ error?: Parameters<typeof describeError>[0] }>) => {
    setOpen(false);
    const result = await run();
    if (result.error) notify(describeError(result.error, what), 'error');
  };

  const muted = state.serverMute || state.selfMute;
  const deafened = state.serverDeaf || state.selfDeaf;
  const status = [
    state.speaking ? 'speaking' : null,
    state.serverMute ? 'muted by a moderator' : state.selfMute ? 'muted' : null,
    state.serverDeaf ? 'deafened by a moderator' : state.selfDeaf ? 'deafened' : null,
  ].filter(Boolean);

  return (
    <li
      className={`voice-participant${state.speaking ? ' speaking' : ''}`}
      data-testid="voice-participant"
      data-user-id={userId}
      data-speaking={state.speaking}
    >
      <Avatar id={userId} name={name} size={24} />
      <span className="voice-participant-name">
        {name}
        {status.length ? <span className="sr-only">, {status.join(', ')}</span> : null}
      </span>
      {muted ? (
        <span
          className={`voice-icon${state.serverMute ? ' server' : ''}`}
          data-testid={state.serverMute ? 'server-muted' : 'self-muted'}
          title={state.serverMute ? 'Muted by a moderator' : 'Muted'}
          aria-hidden="true"
        >
          <MicIcon off size={14} />
        </span>
      ) : null}
      {deafened ? (
        <span
          className={`voice-icon${state.serverDeaf ? ' server' : ''}`}
          data-testid={state.serverDeaf ? 'server-deafened' : 'self-deafened'}
          title={state.serverDeaf ? 'Deafened by a moderator' : 'Deafened'}
          aria-hidden="true"
        >
          <HeadphonesIcon off size={14} />
        </span>
      ) : null}
      {moderator ? (
        <div className="member-menu">
          <button type="button" className="icon-button" aria-label={`Voice actions for ${name}`} aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            ⋯
          </button>
          {open ? (
            <div className="menu" role="menu">
              {canMute ? (
                <button
                  type="button"
                  role="menuitem"
                  onClick={() =>
                    act(`${state.serverMute ? 'unmute' : 'mute'} ${name}`, () => setMember({ guildId, userId, mute: !state.serverMute }))
                  }
                >
                  {state.serverMute ? 'Server unmute' : 'Server mute'}
                </button>
              ) : null}
              {canDeafen ? (
                <button
                  type="button"
                  role="menuitem"
                  onClick={() =>
                    act(`${state.serverDeaf ? 'undeafen' : 'deafen'} ${name}`, () => setMember({ guildId, userId, deaf: !state.serverDeaf }))
                  }
                >
                  {state.serverDeaf ? 'Server undeafen' : 'Server deafen'}
                </button>
              ) : null}
              {canMove
                ? voiceChannels.map((channel) => (
                    <button
                      key={channel.id}
                      type="button"
                      role="menuitem"
                      onClick={() => act(`move ${name}`, () => move({ guildId, userId, channelId: channel.id }))}
                    >
                      Move to {channel.name}
                    </button>
                  ))
                : null}
              {canMove ? (
                <button
                  type="button"
                  role="menuitem"
                  className="danger"
                  onClick={() => act(`disconnect ${name}`, () => disconnect({ guildId, userId }))}
                >
                  Disconnect
                </button>
              ) : null}
            </div>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}
