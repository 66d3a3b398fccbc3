// The media node's configuration: defaults, and the mistakes it refuses to start with.
import { describe, expect, it } from 'vitest';
import { MediaConfigError, loadMediaConfig } from '../../media/src/config.js';

describe('media node configuration', () => {
  it('has a default for everything outside production, with a generated secret', () => {
    const c = loadMediaConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 4010, secretGenerated: true, controlGraceMs: 10_000, redisKeyPrefix: 'chat:', announceTtlMs: 15_000 });
    expect(c.secret.length).toBeGreaterThanOrEqual(16);
    expect(c.redisUrl).toBeUndefined();
    expect(loadMediaConfig({ REDIS_URL: '' }).redisUrl).toBeUndefined();
  });

  it('refuses production without a secret, a half or inverted port range, and a bad announced IP', () => {
    expect(() => loadMediaConfig({ NODE_ENV: 'production' })).toThrow(/MEDIA_SECRET/);
    expect(() => loadMediaConfig({ MEDIA_RTC_MIN_PORT: '40000' })).toThrow(MediaConfigError);
    expect(() => loadMediaConfig({ MEDIA_RTC_MIN_PORT: '40010', MEDIA_RTC_MAX_PORT: '40000' })).toThrow(/MEDIA_RTC_MAX_PORT/);
    expect(() => loadMediaConfig({ MEDIA_ANNOUNCED_IP: 'example.com' })).toThrow(/MEDIA_ANNOUNCED_IP/);
    expect(loadMediaConfig({ MEDIA_RTC_MIN_PORT: '40000', MEDIA_RTC_MAX_PORT: '40100', MEDIA_ANNOUNCED_IP: '203.0.113.7' })).toMatchObject({
      rtcPortRange: [40000, 40100],
      announcedIp: '203.0.113.7',
    });
  });
});
