// The orchestrator's side of the client workers (bench/workers/client.ts): fork, call, stop.
import path from 'node:path';
import type { ConnectArgs, ConnectResult } from '../workers/sockets.js';
import type { SendArgs, SendResult } from '../workers/senders.js';
import type { PhaseReport } from '../workers/deliveries.js';
import type { RegisteredUser } from '../workers/client.js';
import { type Child, ROOT, forkTs } from './procs.js';
import { withTimeout } from './util.js';

export interface WorkerStats {
  phases: Record<string, PhaseReport>;
  errors: number;
  firstError: string;
  completed: number;
  unexpectedCloses: number;
  closeCodes: Record<string, number>;
  open: number;
}

export class Worker {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly child: Child) {
    child.proc.on('message', (msg: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(new Error(`${child.name}: ${msg.error}`));
    });
    void child.exited.then((code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${child.name} exited (${code}):\n${child.tail()}`));
      this.waiting.clear();
    });
  }

  call<T>(cmd: string, args: unknown, timeoutMs = 120_000): Promise<T> {
    const id = this.next++;
    const answer = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.proc.send({ id, cmd, args });
    });
    return withTimeout(`${this.child.name} ${cmd}`, timeoutMs, answer);
  }

  register(args: { graphqlUrls: string[]; usernames: string[]; password: string; inviteCode?: string; concurrency: number }) {
    return this.call<{ users: (RegisteredUser | null)[]; failed: number; firstError: string }>('register', args, 600_000);
  }
  connect(args: ConnectArgs) {
    return this.call<ConnectResult>('connect', args, args.timeoutMs + 600_000);
  }
  send(args: SendArgs) {
    return this.call<SendResult>('send', args, (args.durationMs ?? 0) + 120_000);
  }
  covered(phase: string) {
    return this.call<{ covered: number; count: number; maxFirstSent: number }>('covered', { phase }, 30_000);
  }
  /** ends a running rate-mode send early */
  abort() {
    return this.call<boolean>('abort', {}, 30_000);
  }
  stats(phases: string[]) {
    return this.call<WorkerStats>('stats', { phases }, 60_000);
  }
  disconnect() {
    return this.call<boolean>('disconnect', {}, 60_000);
  }
  stop() {
    return this.child.stop(2000);
  }
}

const FILE = path.join(ROOT, 'bench', 'workers', 'client.ts');

export async function startWorker(name: string): Promise<Worker> {
  const child = forkTs(name, FILE);
  await withTimeout(
    `${name} start`,
    60_000,
    new Promise<void>((resolve, reject) => {
      child.proc.on('message', (msg: { ready?: boolean }) => msg.ready && resolve());
      void child.exited.then((code) => reject(new Error(`${name} exited (${code}) while starting:\n${child.tail()}`)));
    }),
  );
  return new Worker(child);
}

export function startWorkers(prefix: string, n: number): Promise<Worker[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => startWorker(`${prefix}-${i + 1}`)));
}
