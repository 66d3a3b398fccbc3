// The microphone: asked for when a person joins voice (in the click, alongside joinVoiceChannel),
// with the browser's refusals turned into sentences people can act on.

export class MicrophoneError extends Error {}

/** Why getUserMedia failed, for people. */
export function describeMicrophoneError(error: unknown): string {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Microphone access was blocked — allow it in the browser’s site settings and try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No microphone was found. Connect one (or check that it is enabled) and try again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'Your microphone is in use by another app or could not be started. Close the other app and try again.';
    default:
      return `Could not use your microphone${error instanceof Error && error.message ? ` (${error.message})` : ''}. Try again.`;
  }
}

/** The microphone's stream, or a MicrophoneError with the reason in words. */
export async function requestMicrophone(): Promise<MediaStream> {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    throw new MicrophoneError(
      'Voice needs a secure connection: the browser offers the microphone only to sites opened over https (or on localhost).',
    );
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    throw new MicrophoneError(describeMicrophoneError(error));
  }
}

/** Why a voice session ended, in words; null when nothing needs saying. */
export function describeVoiceEnd(reason: string, channelName: string, detail?: string): string | null {
  switch (reason) {
    case 'REFUSED':
      return `Could not connect to ${channelName}${detail ? `: ${detail}` : '.'} Try joining again.`;
    case 'LEFT':
      return `You left ${channelName} (from another tab or device).`;
    case 'REPLACED':
      return `You joined ${channelName} from another tab or device, so voice was disconnected here.`;
    case 'DISCONNECTED':
      return `A moderator disconnected you from ${channelName}.`;
    case 'TRANSPORT_FAILED':
      return `The voice connection to ${channelName} failed (network or media server). Try joining again.`;
    case 'EXPIRED':
      return `Your voice session in ${channelName} expired. Join again.`;
    case 'SOCKET_LOST':
      return `Voice disconnected: the connection to the server was lost. Join ${channelName} again when it is back.`;
    case 'NEGOTIATION_FAILED':
      return `Could not set up the voice connection to ${channelName}. Try joining again.`;
    default:
      return `Voice in ${channelName} ended.`;
  }
}
