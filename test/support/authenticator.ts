// An authenticator app (TOTP, RFC 6238) as the two-factor tests hold one.
import * as OTPAuth from 'otpauth';

export const STEP_MS = 30_000;

/**
 * An authenticator app holding the secret. The server takes a code of the step before, of,
 * or after its own, and none of a step at or before the last one it took; so each code this
 * gives is of the earliest step still good, and when the three of the moment are spent it
 * waits for the next step to begin (a time it computes, not guesses).
 */
export class Authenticator {
  private lastStep = -Infinity;

  constructor(readonly secret: string) {}

  codeOfStep(step: number): string {
    return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(this.secret), timestamp: step * STEP_MS });
  }

  /** the current step, at least `margin` ms away from its end so the server is in it too */
  async currentStep(margin = 3_000): Promise<number> {
    const untilNext = STEP_MS - (Date.now() % STEP_MS);
    if (untilNext < margin) await new Promise((resolve) => setTimeout(resolve, untilNext + 50));
    return Math.floor(Date.now() / STEP_MS);
  }

  async nextCode(): Promise<string> {
    for (;;) {
      const now = await this.currentStep();
      const step = Math.max(this.lastStep + 1, now - 1);
      if (step <= now + 1) {
        this.lastStep = step;
        return this.codeOfStep(step);
      }
      await new Promise((resolve) => setTimeout(resolve, STEP_MS - (Date.now() % STEP_MS) + 50));
    }
  }
}
