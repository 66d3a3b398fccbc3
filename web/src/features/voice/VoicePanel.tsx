// The voice connection at the bottom of the sidebar (as in Discord): where the viewer is
// connected, and Mute, Deafen and Leave.
import { HangUpIcon, HeadphonesIcon, MicIcon } from '../../ui/icons';
import { useVoice } from './VoiceProvider';

const PHASE_TEXT = { idle: '', joining: 'Joining…', connecting: 'Connecting…', connected: 'Voice connected' } as const;

export function VoicePanel() {
  const voice = useVoice();
  if (voice.phase === 'idle' || !voice.channel) return null;
  return (
    <section className="voice-panel" aria-label="Voice connection" data-testid="voice-panel" data-phase={voice.phase}>
      <div className="voice-panel-text">
        <span className={`voice-phase voice-phase-${voice.phase}`} role="status" data-testid="voice-status">
          {PHASE_TEXT[voice.phase]}
        </span>
        <span className="voice-panel-channel" title={voice.channel.name}>
          {voice.channel.name}
        </span>
      </div>
      <button
        type="button"
        className={`icon-button voice-toggle${voice.selfMute ? ' on' : ''}`}
        aria-label="Mute"
        aria-pressed={voice.selfMute}
        title={voice.selfMute ? 'Unmute your microphone' : 'Mute your microphone'}
        onClick={voice.toggleMute}
      >
        <MicIcon off={voice.selfMute} />
      </button>
      <button
        type="button"
        className={`icon-button voice-toggle${voice.selfDeaf ? ' on' : ''}`}
        aria-label="Deafen"
        aria-pressed={voice.selfDeaf}
        title={voice.selfDeaf ? 'Undeafen: hear the others again' : 'Deafen: hear nobody'}
        onClick={voice.toggleDeaf}
      >
        <HeadphonesIcon off={voice.selfDeaf} />
      </button>
      <button type="button" className="icon-button voice-leave" aria-label="Leave voice" title="Leave voice" onClick={voice.leave}>
        <HangUpIcon />
      </button>
    </section>
  );
}
