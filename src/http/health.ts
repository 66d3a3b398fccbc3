// Probes for load balancers and orchestrators. /health/live: the process answers.
// /health/ready: every dependency answers within the deadline, checked in parallel, so a
// dependency that hangs takes the instance out of rotation within a second instead of
// stalling the probe. The reason stays in the log; the probe says only which one failed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { sendJson } from './responses.js';

export interface HealthOptions {
  /** name → a check that resolves when the dependency answers */
  checks: Record<string, () => Promise<unknown>>;
  /** a check that has not answered by then counts as failed */
  timeoutMs: number;
  log: Logger;
}

export function createHealthRoutes({ checks, timeoutMs, log }: HealthOptions) {
  const probe = async (name: string, check: () => Promise<unknown>): Promise<[string, string]> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([check(), deadline]);
      return [name, 'ok'];
    } catch (err) {
      log.warn({ err, dependency: name }, 'readiness check failed');
      return [name, 'unavailable'];
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const path = req.url?.split('?')[0];
      if (path === '/health/live') {
        sendJson(res, 200, { status: 'ok' });
        return true;
      }
      if (path === '/health/ready') {
        const results = Object.fromEntries(await Promise.all(Object.entries(checks).map(([name, check]) => probe(name, check))));
        const ok = Object.values(results).every((v) => v === 'ok');
        sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', checks: results });
        return true;
      }
      return false;
    },
  };
}

