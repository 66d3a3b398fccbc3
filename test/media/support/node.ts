// A media node started in the test process through the public entry point, on port 0.
import { loadMediaConfig } from '../../../media/src/config.js';
import { type RunningMediaNode, startMediaNode } from '../../../media/src/start.js';
import { testRedisKeyPrefix } from '../../support/redis.js';

export const TEST_SECRET = 'test-secret-of-the-media-node-0123';

export function startTestNode(env: Record<string, string> = {}): Promise<RunningMediaNode> {
  return startMediaNode(
    loadMediaConfig({ NODE_ENV: 'test', MEDIA_HOST: '127.0.0.1', MEDIA_PORT: '0', MEDIA_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', ...env }),
  );
}

/** A node announced in TEST_REDIS_URL under this test file's key prefix, where the API's instances look for nodes. */
export function startAnnouncedTestNode(secret: string, env: Record<string, string> = {}): Promise<RunningMediaNode> {
  const redisUrl = process.env.TEST_REDIS_URL;
  if (!redisUrl) throw new Error('an announced media node needs TEST_REDIS_URL');
  return startTestNode({ MEDIA_SECRET: secret, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: testRedisKeyPrefix, ...env });
}
