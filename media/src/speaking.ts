// Speaking indication from the RFC 6464 audio level the sender's browser writes into each RTP
// header (0 = loudest, 127 = silence, in -dBov). The level is measured by the client's encoder,
// not claimed by its application code, and it costs one byte per packet: no decoding here.
//
// Hysteresis, so that a speaker does not flicker between words: speaking starts after
// `startPackets` consecutive packets at or above the start threshold (louder than -startDbov),
// and ends only once nothing reached the stop threshold for `holdMs` (or packets stopped
// coming: a muted browser or DTX sends nothing, so tick() ends it too).

export interface SpeakingOptions {
  /** -dBov a packet must reach to count towards speaking (lower number = louder) */
  startLevel: number;
  /** -dBov that keeps an ongoing speaker speaking (a little quieter than startLevel) */
  stopLevel: number;
  startPackets: number;
  holdMs: number;
}

export const DEFAULT_SPEAKING: SpeakingOptions = { startLevel: 50, stopLevel: 60, startPackets: 2, holdMs: 400 };

export class SpeakingDetector {
  speaking = false;
  private loudRun = 0;
  private lastVoiceAt = 0;

  constructor(private readonly options: SpeakingOptions = DEFAULT_SPEAKING) {}

  /** Feeds one packet's level; returns the new state when it changed. */
  level(level: number, now: number): boolean | undefined {
    if (level <= this.options.startLevel) this.loudRun++;
    else this.loudRun = 0;
    if (level <= this.options.stopLevel && (this.speaking || this.loudRun > 0)) this.lastVoiceAt = now;
    if (!this.speaking && this.loudRun >= this.options.startPackets) {
      this.speaking = true;
      this.lastVoiceAt = now;
      return true;
    }
    return this.tick(now);
  }

  /** Ends speaking after holdMs without voice; returns false when it just ended. */
  tick(now: number): false | undefined {
    if (this.speaking && now - this.lastVoiceAt >= this.options.holdMs) {
      this.speaking = false;
      this.loudRun = 0;
      return false;
    }
    return undefined;
  }

  /** Forced silence (muted, left): returns false if that ended speaking. */
  reset(): false | undefined {
    this.loudRun = 0;
    if (!this.speaking) return undefined;
    this.speaking = false;
    return false;
  }
}
