// A real server process, for what only a process can show: being killed, or SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { testRedisKeyPrefix } from './redis.js';

export interface InstanceProcess {
  proc: ChildProcess;
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  /** resolves with the exit code (or signal) when the process ends */
  exited: Promise<number | string>;
  /** what it printed so far (its log), for a failing assertion to show */
  output(): string;
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export function startInstanceProcess(env: Record<string, string>): Promise<InstanceProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      // every test client comes from 127.0.0.1, and with Redis the counts outlive a run
      REGISTER_ADDRESS_LIMIT: '0',
      LOGIN_ADDRESS_LIMIT: '0',
      REDIS_KEY_PREFIX: testRedisKeyPrefix,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /"port":(\d+)[^\n]*Chat API ready/.exec(output);
      if (!ready) return;
      proc.stdout!.off('data', onData);
      proc.stdout!.on('data', (more: Buffer) => (output += more.toString()));
      const url = `http://127.0.0.1:${ready[1]}`;
      resolve({
        proc,
        url,
        graphqlUrl: `${url}/graphql`,
        wsUrl: `${url.replace('http', 'ws')}/graphql`,
        exited,
        output: () => output,
      });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`instance exited (${code}) before it was ready:\n${output}`)));
  });
}
