// Every child process of the benchmark goes through here, so that all of them die with it:
// each runs in its own process group (detached), killed as a group on cleanup, on a signal,
// on a crash and, synchronously, on exit.
import { type ChildProcess, type ForkOptions, type SpawnOptions, fork, spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep } from './util.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** the last lines it printed (stdout and stderr), for error messages */
  tail(): string;
  /** how many lines it has printed so far */
  lineCount(): number;
  exited: Promise<number | string>;
  isRunning(): boolean;
  /** SIGTERM to its group, SIGKILL after graceMs; resolves when it has exited */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<Child>();

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function track(name: string, proc: ChildProcess): Child {
  if (proc.pid === undefined) throw new Error(`${name}: could not start`);
  const pid = proc.pid;
  const lines: string[] = [];
  let total = 0;
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n'))
      if (line.trim()) {
        lines.push(line);
        total++;
      }
    if (lines.length > 60) lines.splice(0, lines.length - 60);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let running = true;
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => {
      running = false;
      children.delete(child);
      // the group may outlive its leader (a shell's children): take it down too
      killGroup(pid, 'SIGKILL');
      resolve(code ?? signal ?? -1);
    }),
  );
  proc.on('error', () => {});
  const child: Child = {
    name,
    proc,
    pid,
    tail: () => lines.slice(-25).join('\n'),
    lineCount: () => total,
    exited,
    isRunning: () => running,
    async stop(graceMs = 3000) {
      if (!running) return;
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child;
}

/** More Node.js flags for a kind of child process, from a space-separated environment variable (BENCH_API_FLAGS…). */
export function nodeFlags(variable: string): string[] {
  return process.env[variable]?.split(' ').filter(Boolean) ?? [];
}

/** With BENCH_CPU_PROF_DIR set, the flags that make a Node.js process write its V8 CPU profile there when it stops. */
export function cpuProfileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export function spawnChild(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  return track(name, spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true }));
}

/** A TypeScript module of the bench as a Node child with an IPC channel. */
export function forkTs(name: string, file: string, env: Record<string, string> = {}, options: ForkOptions = {}): Child {
  return track(
    name,
    fork(file, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx', ...nodeFlags('BENCH_WORKER_FLAGS')],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      ...options,
      detached: true,
    }),
  );
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop(2000)));
}

/** Last resort, synchronous: used on process exit. */
export function killAllNow(): void {
  for (const c of children) killGroup(c.pid, 'SIGKILL');
}

process.on('exit', killAllNow);

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls url until it answers 200; rejects after timeoutMs or if the child exits. */
export async function waitFor200(url: string, timeoutMs: number, child?: Child, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && !child.isRunning()) throw new Error(`${child.name} exited before ${url} answered 200:\n${child.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms${child ? `:\n${child.tail()}` : ''}`);
    await sleep(intervalMs);
  }
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (!kib) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kib) * 1024;
}

/** CPU time (user + system) of a process in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] is utime, fields[12] stime (after pid and comm), in clock ticks (100 Hz on Linux)
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function listeningSockets(): Map<string, number> {
  const byInode = new Map<string, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue;
      byInode.set(cols[9]!, parseInt(cols[1]!.split(':')[1] ?? '', 16));
    }
  }
  return byInode;
}

/** The TCP ports a process listens on. */
export function listeningPorts(pid: number): number[] {
  const byInode = listeningSockets();
  const ports = new Set<number>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      const port = m && byInode.get(m[1]!);
      if (port) ports.add(port);
    } catch {
      /* closed meanwhile */
    }
  }
  return [...ports];
}

/** The pid of the process listening on 127.0.0.1:port (via /proc/net/tcp and /proc/<pid>/fd). */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1]!.split(':')[1] ?? '', 16);
      if (localPort === port && cols[3] === '0A') inodes.add(cols[9]!);
    }
  }
  if (!inodes.size) return undefined;
  // our own children first (cheap), then everything else we may read
  const candidates = [...[...children].map((c) => String(c.pid)), ...readdirSync('/proc').filter((d) => /^\d+$/.test(d))];
  for (const pid of candidates) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1]!)) return Number(pid);
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return undefined;
}
