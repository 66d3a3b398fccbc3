// Periodic clean-up every instance may run (the deletes are idempotent): uploads nobody
// attached and files of deleted messages, and sendMessage nonces past their window.
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Services } from './services/index.js';

export function startHousekeeping({ services, config, log }: { services: Services; config: Config; log: Logger }) {
  const uploadTtlMs = config.UNATTACHED_UPLOAD_TTL_SECONDS * 1000;
  const timer = setInterval(() => {
    services.attachments
      .sweep(new Date(Date.now() - uploadTtlMs))
      .then((removed) => removed && log.info({ removed }, 'removed stale upload files'))
      .catch((err) => log.warn({ err }, 'upload sweep failed'));
    services.messages.sweepNonces().catch((err) => log.warn({ err }, 'nonce sweep failed'));
  }, Math.min(uploadTtlMs / 2, 3_600_000));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
