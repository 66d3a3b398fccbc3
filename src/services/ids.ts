import { randomBytes, randomFillSync } from 'node:crypto';
import { encodeTime, monotonicFactory } from 'ulid';

/** Cryptographic random numbers in [0, 1) drawn from a buffer refilled 4 KiB at a time: ulid's
 *  default source asks the kernel for one byte per character (16 system calls an id). */
function bufferedRandom(): () => number {
  const pool = new Uint32Array(1024);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return pool[next++]! / 0x1_0000_0000;
  };
}

// Monotonic within this process: two messages created in the same millisecond still sort
// in creation order, which is what makes ids usable as cursors.
const ulid = monotonicFactory(bufferedRandom());

export const newId = (): string => ulid();

/** The smallest id a message created at or after `ms` can have: "since then" as a cursor. */
export const idFloorAt = (ms: number): string => `${encodeTime(ms, 10)}${'0'.repeat(16)}`;

/** An opaque random token (invite codes, refresh tokens). */
export const randomToken = (bytes: number): string => randomBytes(bytes).toString('base64url');

/** Invite codes people can type: 10 characters of an alphabet without look-alikes. */
export function inviteCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(10);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
export const isId = (value: string): boolean => ULID_RE.test(value);
