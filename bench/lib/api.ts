// API instances as child processes, started the way `npm start` starts them: the command is
// read from package.json's "start" script at run time, so the benchmark follows the project
// (tsx today, compiled JavaScript tomorrow). Readiness is GET /health/ready = 200; the port is
// chosen here and passed as PORT, so nothing depends on the server's log format.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Child, ROOT, cpuProfileFlags, freePort, nodeFlags, pidListeningOn, spawnChild, waitFor200 } from './procs.js';

export interface ApiInstance {
  name: string;
  child: Child;
  port: number;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  /** the process that owns the listening socket (the server itself, whatever wraps it) */
  serverPid: number;
  stop(): Promise<void>;
}

interface Scripts {
  start?: string;
  prestart?: string;
}

export function packageScripts(): Scripts {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts?: Scripts };
  return pkg.scripts ?? {};
}

export interface StartCommand {
  command: string;
  args: string[];
  /** what package.json says, for the report */
  script: string;
}

const binPath = () => `${path.join(ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`;

/**
 * The start script as a command. `tsx <file>` and `node <args>` run directly on this Node (so
 * the pid is the server's, with no wrapper process); anything else runs through sh as npm would.
 */
export function startCommand(options: { withPrestart?: boolean } = {}): StartCommand {
  const scripts = packageScripts();
  const start = scripts.start;
  if (!start) throw new Error('package.json has no "start" script');
  const script = options.withPrestart && scripts.prestart ? `${scripts.prestart} && ${start}` : start;
  const simple = !/[&|;<>$`'"\\()]/.test(script);
  const tokens = script.trim().split(/\s+/);
  if (simple && tokens[0] === 'tsx' && tokens.length === 2 && !tokens[1]!.startsWith('-')) {
    return { command: process.execPath, args: ['--import', 'tsx', tokens[1]!], script };
  }
  if (simple && tokens[0] === 'node') return { command: process.execPath, args: tokens.slice(1), script };
  return { command: 'sh', args: ['-c', script], script };
}

/** Runs package.json's prestart (if any) once, e.g. a build step the start relies on. */
export async function runPrestart(): Promise<string | undefined> {
  const prestart = packageScripts().prestart;
  if (!prestart) return undefined;
  const child = spawnChild('prestart', 'sh', ['-c', prestart], { env: { ...process.env, PATH: binPath() } });
  const code = await child.exited;
  if (code !== 0) throw new Error(`prestart (${prestart}) failed (${code}):\n${child.tail()}`);
  return prestart;
}

export async function startApi(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ApiInstance> {
  const port = await freePort();
  const { command, args: startArgs } = startCommand();
  // a CPU profile of each instance (BENCH_CPU_PROF_DIR) and more Node.js flags (BENCH_API_FLAGS)
  const args = command === process.execPath ? [...cpuProfileFlags(), ...nodeFlags('BENCH_API_FLAGS'), ...startArgs] : startArgs;
  const child = spawnChild(name, command, args, {
    env: { ...process.env, PATH: binPath(), HOST: '127.0.0.1', ...env, PORT: String(port) },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}/health/ready`, timeoutMs, child);
  } catch (err) {
    await child.stop();
    throw err;
  }
  const serverPid = pidListeningOn(port) ?? child.pid;
  return {
    name,
    child,
    port,
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    serverPid,
    stop: () => child.stop(5000),
  };
}

export { binPath };
