// The viewer's voice connection, app-wide (it stays while they browse other channels and
// servers): join, leave, self mute and deafen. The media code (engine.ts) is loaded on the
// first join. A session that ends by itself says why in a notice; a move by a moderator joins
// the new channel at once, as Discord does.
import { type ReactNode, createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { useClient } from 'urql';
import type { ChatClient } from '../../lib/client';
import { describeError } from '../../lib/errors';
import { useNotices } from '../../ui/notices';
import type { VoiceConnection } from './engine';
import { describeVoiceEnd, requestMicrophone } from './mic';
import { JoinVoice, LeaveVoice, SetVoiceState, ViewerVoiceChannel } from './operations';

export interface VoiceChannelRef {
  id: string;
  name: string;
  guildId: string;
}

export type VoicePhase = 'idle' | 'joining' | 'connecting' | 'connected';

export interface Voice {
  phase: VoicePhase;
  /** the channel joined (or being joined); null when idle */
  channel: VoiceChannelRef | null;
  selfMute: boolean;
  selfDeaf: boolean;
  join(channel: VoiceChannelRef): void;
  leave(): void;
  toggleMute(): void;
  toggleDeaf(): void;
}

const VoiceContext = createContext<Voice>({
  phase: 'idle',
  channel: null,
  selfMute: false,
  selfDeaf: false,
  join: () => undefined,
  leave: () => undefined,
  toggleMute: () => undefined,
  toggleDeaf: () => undefined,
});

export const useVoice = () => useContext(VoiceContext);

const MAX_RECONNECTS = 3;
const RECONNECT_DELAY_MS = 1_000;

const stopStream = (stream: MediaStream) => {
  for (const track of stream.getTracks()) track.stop();
};

export function VoiceProvider({ chat, children }: { chat: ChatClient; children: ReactNode }) {
  const client = useClient();
  const { notify } = useNotices();
  const [phase, setPhase] = useState<VoicePhase>('idle');
  const [channel, setChannel] = useState<VoiceChannelRef | null>(null);
  const [selfMute, setSelfMute] = useState(false);
  const [selfDeaf, setSelfDeaf] = useState(false);
  const engine = useRef<VoiceConnection | null>(null);
  // every join or leave starts a new generation: late answers of an older one are ignored
  const generation = useRef(0);
  // the generation a Leave started: a join answered after it is left at once
  const leftAt = useRef(-1);
  // reconnections since the last connected session
  const reconnects = useRef(0);
  const prefs = useRef({ selfMute, selfDeaf });
  prefs.current = { selfMute, selfDeaf };

  const reset = useCallback(() => {
    engine.current?.close();
    engine.current = null;
    setPhase('idle');
    setChannel(null);
  }, []);

  const join = useCallback(
    async (target: VoiceChannelRef) => {
      const gen = ++generation.current;
      engine.current?.close();
      engine.current = null;
      setChannel(target);
      setPhase('joining');
      // asked for in the click, alongside the join: the permission prompt (if any) shows at once
      const microphone = requestMicrophone();
      microphone.catch(() => undefined);
      const stale = () => gen !== generation.current;
      // the media code loads while the join is on its way: voiceSignals opens as soon as it can
      const engineModule = import('./engine');
      engineModule.catch(() => undefined);
      const result = await client.mutation(JoinVoice, { channelId: target.id }).toPromise();
      const session = result.data?.joinVoiceChannel;
      if (stale() || !session) {
        void microphone.then(stopStream, () => undefined);
        // Leave was pressed while joining: nobody else joined since, so leave what was just joined
        if (session && leftAt.current === generation.current) void client.mutation(LeaveVoice, {}).toPromise();
        if (!stale()) {
          reset();
          notify(describeError(result.error, `join ${target.name}`), 'error');
        }
        return;
      }
      let VoiceConnection: typeof import('./engine').VoiceConnection;
      try {
        ({ VoiceConnection } = await engineModule);
      } catch {
        // the chunk could not be fetched (offline, or a new version was deployed)
        void microphone.then(stopStream, () => undefined);
        if (!stale() || leftAt.current === generation.current) void client.mutation(LeaveVoice, {}).toPromise();
        if (!stale()) {
          reset();
          notify('Could not load voice. Reload the page and try again.', 'error');
        }
        return;
      }
      if (stale()) {
        void microphone.then(stopStream, () => undefined);
        if (leftAt.current === generation.current) void client.mutation(LeaveVoice, {}).toPromise();
        return;
      }
      setPhase('connecting');
      engine.current = new VoiceConnection({
        client,
        ws: chat.ws,
        session,
        microphone,
        muted: prefs.current.selfMute,
        deafened: prefs.current.selfDeaf,
        onState: (state) => {
          if (stale()) return;
          setPhase(state === 'connected' ? 'connected' : 'connecting');
          if (state === 'connected') reconnects.current = 0;
        },
        onEnd: (reason, detail) => {
          if (stale()) return;
          generation.current++;
          engine.current = null;
          setPhase('idle');
          setChannel(null);
          if (reason === 'DEVICE') {
            // out of the channel for everyone, with the reason for the viewer
            void client.mutation(LeaveVoice, {}).toPromise();
            notify(detail ?? 'Could not use your microphone.', 'error');
            return;
          }
          if (reason === 'MOVED') {
            void client
              .query(ViewerVoiceChannel, {}, { requestPolicy: 'network-only' })
              .toPromise()
              .then((moved) => {
                const to = moved.data?.viewer?.voiceChannel;
                if (!to?.guild) {
                  notify(`A moderator moved you out of ${target.name}.`);
                  return;
                }
                notify(`A moderator moved you to ${to.name}.`);
                void join({ id: to.id, name: to.name, guildId: to.guild.id });
              });
            return;
          }
          // a lost connection is joined again (as Discord does), a few times in a row at most
          if ((reason === 'TRANSPORT_FAILED' || reason === 'SOCKET_LOST') && reconnects.current < MAX_RECONNECTS) {
            const attempt = ++reconnects.current;
            notify(`The voice connection to ${target.name} was lost. Reconnecting…`);
            setChannel(target);
            setPhase('joining');
            const gen = generation.current;
            setTimeout(() => {
              if (generation.current === gen) void join(target);
            }, RECONNECT_DELAY_MS * attempt);
            return;
          }
          reconnects.current = 0;
          const text = describeVoiceEnd(reason, target.name, detail);
          if (text) notify(text, reason === 'LEFT' || reason === 'REPLACED' ? 'info' : 'error');
        },
      });
      // mute and deafen carry over from the last channel, as the buttons show them
      if (prefs.current.selfMute || prefs.current.selfDeaf) {
        void client.mutation(SetVoiceState, { selfMute: prefs.current.selfMute, selfDeaf: prefs.current.selfDeaf }).toPromise();
      }
    },
    [client, chat, notify, reset],
  );

  const leave = useCallback(() => {
    leftAt.current = ++generation.current;
    reconnects.current = 0;
    reset();
    void client
      .mutation(LeaveVoice, {})
      .toPromise()
      .then((result) => {
        if (result.error) notify(describeError(result.error, 'leave voice'), 'error');
      });
  }, [client, notify, reset]);

  const inVoice = phase !== 'idle';
  const update = useCallback(
    async (patch: { selfMute?: boolean; selfDeaf?: boolean }) => {
      if (!inVoice) return;
      const result = await client.mutation(SetVoiceState, patch).toPromise();
      if (result.error) notify(describeError(result.error, 'change your voice state'), 'error');
    },
    [client, inVoice, notify],
  );

  const toggleMute = useCallback(() => {
    const next = !prefs.current.selfMute;
    setSelfMute(next);
    engine.current?.setMuted(next);
    void update({ selfMute: next });
  }, [update]);

  const toggleDeaf = useCallback(() => {
    const next = !prefs.current.selfDeaf;
    setSelfDeaf(next);
    engine.current?.setDeafened(next);
    void update({ selfDeaf: next });
  }, [update]);

  // signing out (or closing the app) ends the session: closing voiceSignals leaves voice
  useEffect(() => () => engine.current?.close(), []);

  const value = useMemo<Voice>(
    () => ({ phase, channel, selfMute, selfDeaf, join: (c) => void join(c), leave, toggleMute, toggleDeaf }),
    [phase, channel, selfMute, selfDeaf, join, leave, toggleMute, toggleDeaf],
  );
  return <VoiceContext.Provider value={value}>{children}</VoiceContext.Provider>;
}
