// One media node: forwarding core + control socket (+ Redis announcement with REDIS_URL).
// The embedded API starts it in-process; main.ts starts it as its own process.
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import type { MediaConfig } from './config.js';
import { CONTROL_PATH, ControlServer } from './control.js';
import { MediaNode } from './node.js';
import { MediaAnnouncer } from './registry.js';

export interface RunningMediaNode {
  id: string;
  controlUrl: string;
  secret: string;
  node: MediaNode;
  control: ControlServer;
  stop(): Promise<void>;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');
const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

export async function startMediaNode(config: MediaConfig, options: { log?: Logger } = {}): Promise<RunningMediaNode> {
  const log = options.log ?? pino({ level: config.logLevel, base: { service: 'media-node', node: config.nodeId } });
  if (config.secretGenerated) log.warn('MEDIA_SECRET is not set: a random secret was generated for this process; set it for the API to connect');
  const node = new MediaNode({
    announcedIp: config.announcedIp,
    rtcPortRange: config.rtcPortRange,
    // werift leaves loopback out of its candidates; a node bound to loopback is a dev/test set-up whose clients are local
    additionalHostAddresses: isLoopback(config.host) ? ['127.0.0.1'] : undefined,
    iceTimeoutMs: config.iceTimeoutMs,
    speaking: { holdMs: config.speakingHoldMs },
    maxParticipantsPerRoom: config.maxParticipantsPerRoom,
    offerBatchMs: config.offerBatchMs,
  });
  const control = new ControlServer({ node, nodeId: config.nodeId, secret: config.secret, graceMs: config.controlGraceMs, log });
  let port: number;
  try {
    port = await control.listen(config.host, config.port);
  } catch (err) {
    await node.close();
    throw err;
  }
  const reachableHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const controlUrl = config.publicUrl ?? `ws://${urlHost(reachableHost)}:${port}${CONTROL_PATH}`;
  if (!config.publicUrl && reachableHost !== config.host && config.redisUrl)
    log.warn({ controlUrl }, 'MEDIA_PUBLIC_URL is not set: other hosts cannot reach the announced control URL');

  const startedAt = Date.now();
  let redis: Redis | undefined;
  let announcer: MediaAnnouncer | undefined;
  if (config.redisUrl) {
    redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
    redis.on('error', (err) => log.warn({ err }, 'media registry: Redis error'));
    announcer = new MediaAnnouncer(
      redis,
      config.redisKeyPrefix,
      config.announceTtlMs,
      () => ({ id: config.nodeId, controlUrl, rooms: node.roomCount, participants: node.participantCount, startedAt }),
      log,
    );
    try {
      await redis.connect();
      await announcer.start();
    } catch (err) {
      await control.close();
      await node.close();
      redis.disconnect();
      throw err;
    }
  }
  log.info({ controlUrl, announced: Boolean(announcer) }, 'media node listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // off the registry first, so no API picks a node that is going away
      await announcer?.stop().catch((err: unknown) => log.warn({ err }, 'media registry: could not remove the announcement'));
      await node.close();
      await control.close();
      redis?.disconnect();
    })());
  return { id: config.nodeId, controlUrl, secret: config.secret, node, control, stop };
}
