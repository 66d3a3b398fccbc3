// One Redis key space per test file: every server a file starts shares it (as instances of one
// deployment do), and no other file's servers hear its events or sweep its presence.
import { randomBytes } from 'node:crypto';

export const testRedisKeyPrefix = `test:${randomBytes(4).toString('hex')}:`;
