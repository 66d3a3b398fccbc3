// Stopping runs every step even when an earlier one failed: each failure is logged, and only
// the critical ones make the stop fail (the process then exits 1).
import type { Server } from 'node:http';
import type { Logger } from './logger.js';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
  /** false: a failure is logged as a warning and the stop still succeeds */
  critical?: boolean;
}

export async function runShutdown(log: Logger, steps: readonly ShutdownStep[]): Promise<void> {
  const failed: string[] = [];
  for (const { name, run, critical = true } of steps) {
    const started = Date.now();
    try {
      await run();
      log.debug({ step: name, ms: Date.now() - started }, 'shutdown step done');
    } catch (err) {
      if (critical) failed.push(name);
      log[critical ? 'error' : 'warn']({ err, step: name }, 'shutdown step failed');
    }
  }
  if (failed.length) throw new Error(`shutdown steps failed: ${failed.join(', ')}`);
}

/**
 * Stops accepting connections and resolves once the requests in flight are answered (idle
 * keep-alive connections are let go as they become idle), or cuts the rest after timeoutMs.
 */
export function drainHttp(server: Server, timeoutMs: number, log: Logger): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  return Promise.race([drained, late]).then(async (outcome) => {
    clearTimeout(timer);
    clearInterval(idle);
    if (outcome === 'late') {
      log.warn({ timeoutMs }, 'requests still running at the shutdown deadline were cut');
      server.closeAllConnections();
      await drained;
    }
  });
}
