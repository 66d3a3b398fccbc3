// The words the voice UI uses when the microphone cannot be had (web/src/features/voice/mic.ts):
// each browser refusal, and a page that is not a secure context (no getUserMedia at all).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MicrophoneError, describeMicrophoneError, requestMicrophone } from '../../../web/src/features/voice/mic';

const refusal = (name: string) => new DOMException('refused', name);

afterEach(() => vi.unstubAllGlobals());

describe('microphone errors, in words', () => {
  it('explains each refusal', () => {
    expect(describeMicrophoneError(refusal('NotAllowedError'))).toBe(
      'Microphone access was blocked — allow it in the browser’s site settings and try again.',
    );
    expect(describeMicrophoneError(refusal('NotFoundError'))).toMatch(/^No microphone was found/);
    expect(describeMicrophoneError(refusal('NotReadableError'))).toMatch(/in use by another app/);
  });

  it('says that voice needs https (or localhost) where getUserMedia is missing', async () => {
    vi.stubGlobal('window', { isSecureContext: false });
    vi.stubGlobal('navigator', {});
    await expect(requestMicrophone()).rejects.toThrow(MicrophoneError);
    await expect(requestMicrophone()).rejects.toThrow(/secure connection.*https \(or on localhost\)/);
  });

  it('turns a rejected getUserMedia into the sentence', async () => {
    vi.stubGlobal('window', { isSecureContext: true });
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: () => Promise.reject(refusal('NotReadableError')) } });
    await expect(requestMicrophone()).rejects.toThrow(/in use by another app/);
  });
});
