// The media side of one voice session (loaded on the first join): one RTCPeerConnection with the
// media node, whose offers arrive on voiceSignals and are answered with answerVoiceOffer
// (docs/VOICE.md). The first m-section is the viewer's own upstream (the microphone, sendonly);
// every other one is a participant's audio, whose msid stream id is their session id, played
// through an <audio> element of its own.
import { stringifyDocument } from '@urql/core';
import type { Client as WsClient } from 'graphql-ws';
import type { Client } from 'urql';
import { AddVoiceCandidate, AnswerVoiceOffer, VoiceSignals } from './operations';

export interface VoiceSessionInfo {
  sessionId: string;
  voiceToken: string;
  iceServers: { urls: string[]; username: string | null; credential: string | null }[];
}

/** VoiceCloseReason, or: SOCKET_LOST (the WebSocket went down), DEVICE (the microphone was
 *  refused; `detail` says why), REFUSED (the API refused voiceSignals; `detail` is its message),
 *  NEGOTIATION_FAILED (an offer could not be answered). */
export type VoiceEnd = string;

export interface VoiceConnectionOptions {
  client: Client;
  ws: WsClient;
  session: VoiceSessionInfo;
  /** the microphone, asked for at the click; a rejection ends the session (DEVICE) */
  microphone: Promise<MediaStream>;
  muted: boolean;
  deafened: boolean;
  onState(state: RTCPeerConnectionState): void;
  /** once, when the session ends by itself (not after close()) */
  onEnd(reason: VoiceEnd, detail?: string): void;
}

/** ICE candidates are usually gathered within milliseconds (host candidates); the answer waits for them, not longer than this. */
const GATHER_WAIT_MS = 2_000;

export class VoiceConnection {
  private readonly pc: RTCPeerConnection;
  private mic: MediaStreamTrack | null = null;
  private readonly audios = new Map<string, HTMLAudioElement>();
  private readonly container: HTMLElement;
  private chain: Promise<void> = Promise.resolve();
  private unsubscribe: () => void = () => undefined;
  private ended = false;
  private answered = false;
  /** candidates gathered after the first answer was written but before the API had it */
  private unsent: (string | null)[] = [];
  private muted: boolean;
  private deafened: boolean;

  constructor(private readonly options: VoiceConnectionOptions) {
    this.muted = options.muted;
    this.deafened = options.deafened;
    const iceServers: RTCIceServer[] = options.session.iceServers.map((server) => ({
      urls: server.urls,
      ...(server.username ? { username: server.username } : {}),
      ...(server.credential ? { credential: server.credential } : {}),
    }));
    this.pc = new RTCPeerConnection({ iceServers });
    this.container = document.createElement('div');
    this.container.hidden = true;
    this.container.dataset.voiceAudio = options.session.sessionId;
    document.body.append(this.container);

    this.pc.addEventListener('track', (event) => this.play(event));
    this.pc.addEventListener('connectionstatechange', () => {
      if (!this.ended) options.onState(this.pc.connectionState);
    });
    // Candidates found after the answer went out are trickled (the node's own are in its offers);
    // those found while the first answer is on its way follow it.
    this.pc.addEventListener('icecandidate', (event) => {
      if (this.ended) return;
      const candidate = event.candidate ? JSON.stringify(event.candidate.toJSON()) : null;
      if (!this.answered) {
        if (this.pc.localDescription) this.unsent.push(candidate);
        return;
      }
      this.trickle(candidate);
    });

    options.microphone.then(
      (stream) => {
        const track = stream.getAudioTracks()[0] ?? null;
        if (this.ended || !track) {
          for (const t of stream.getTracks()) t.stop();
          if (!track && !this.ended) this.end('DEVICE', 'No microphone was found. Connect one (or check that it is enabled) and try again.');
          return;
        }
        this.mic = track;
        track.enabled = !this.muted;
        // no renegotiation: the upstream m-section is there from the first offer
        this.chain = this.chain.then(() => this.attachMicrophone());
      },
      (error: unknown) => this.end('DEVICE', error instanceof Error ? error.message : String(error)),
    );

    this.unsubscribe = options.ws.subscribe<{ voiceSignals: { __typename: string; sdp?: string; reason?: string } }>(
      { query: stringifyDocument(VoiceSignals), variables: this.credentials() },
      {
        next: (result) => {
          const signal = result.data?.voiceSignals;
          if (!signal) return;
          if (signal.__typename === 'VoiceClosed') this.end(signal.reason ?? 'EXPIRED');
          else if (signal.sdp) {
            const sdp = signal.sdp;
            this.chain = this.chain.then(() => this.answer(sdp)).catch((error: unknown) => {
              console.warn('voice: could not answer the offer', error);
              this.end('NEGOTIATION_FAILED');
            });
          }
        },
        // a refusal (an array of GraphQL errors) or the socket going down
        error: (error) =>
          Array.isArray(error) ? this.end('REFUSED', (error[0] as { message?: string } | undefined)?.message) : this.end('SOCKET_LOST'),
        complete: () => this.end('EXPIRED'),
      },
    );
  }

  private credentials() {
    return { sessionId: this.options.session.sessionId, voiceToken: this.options.session.voiceToken };
  }

  private async answer(sdp: string): Promise<void> {
    if (this.ended) return;
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    const upstream = this.pc.getTransceivers()[0];
    if (upstream) {
      upstream.direction = 'sendonly';
      if (this.mic && upstream.sender.track !== this.mic) await upstream.sender.replaceTrack(this.mic);
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    if (this.ended) return;
    const answer = this.pc.localDescription?.sdp ?? '';
    const result = await this.options.client
      .mutation(AnswerVoiceOffer, { ...this.credentials(), sdp: answer }, { requestPolicy: 'network-only' })
      .toPromise();
    if (result.error) throw result.error;
    if (!this.answered) {
      this.answered = true;
      // the ones the answer already carried need not be sent again
      for (const candidate of this.unsent.splice(0)) {
        if (candidate === null || !answer.includes((JSON.parse(candidate) as { candidate: string }).candidate)) this.trickle(candidate);
      }
    }
  }

  private trickle(candidate: string | null): void {
    void this.options.client
      .mutation(AddVoiceCandidate, { ...this.credentials(), candidate }, { requestPolicy: 'network-only' })
      .toPromise();
  }

  private async attachMicrophone(): Promise<void> {
    const upstream = this.pc.getTransceivers()[0];
    if (!this.ended && this.mic && upstream && upstream.sender.track !== this.mic) await upstream.sender.replaceTrack(this.mic);
  }

  private gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => {
        if (this.pc.iceGatheringState === 'complete') done();
      };
      const timer = setTimeout(done, GATHER_WAIT_MS);
      this.pc.addEventListener('icegatheringstatechange', check);
    });
  }

  /** One <audio> per speaker, keyed by the stream id (their session id). */
  private play(event: RTCTrackEvent): void {
    const stream = event.streams[0] ?? new MediaStream([event.track]);
    const id = stream.id;
    let audio = this.audios.get(id);
    if (!audio) {
      audio = document.createElement('audio');
      audio.autoplay = true;
      audio.dataset.voiceStream = id;
      this.audios.set(id, audio);
      this.container.append(audio);
    }
    audio.muted = this.deafened;
    if (audio.srcObject !== stream) audio.srcObject = stream;
    // an autoplay refusal is not an error here: the join was a click, so it rarely happens
    void audio.play().catch(() => undefined);
    stream.addEventListener('removetrack', () => {
      if (stream.getTracks().length > 0) return;
      this.audios.get(id)?.remove();
      this.audios.delete(id);
    });
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    if (this.mic) this.mic.enabled = !muted;
  }

  setDeafened(deafened: boolean): void {
    this.deafened = deafened;
    for (const audio of this.audios.values()) audio.muted = deafened;
  }

  private teardown(): void {
    this.ended = true;
    this.unsubscribe();
    this.pc.close();
    this.mic?.stop();
    this.mic = null;
    this.container.remove();
    this.audios.clear();
  }

  private end(reason: VoiceEnd, detail?: string): void {
    if (this.ended) return;
    this.teardown();
    this.options.onEnd(reason, detail);
  }

  /** Ends the session from here (leave, switching channels, sign-out): no onEnd. */
  close(): void {
    if (!this.ended) this.teardown();
  }
}
