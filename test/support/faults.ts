// Servers a fault test owns and can cut: a private redis-server, a TCP proxy it severs.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

/** A redis-server of the test's own, on a fixed port so it can come back at the same address. */
export function privateRedis(port: number) {
  let proc: ChildProcess | undefined;
  return {
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        const ok = await new Promise<boolean>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.end();
            resolve(true);
          });
          socket.on('error', () => resolve(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('private redis-server did not start');
    },
    async kill() {
      if (!proc) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
      proc = undefined;
    },
  };
}

/** A TCP proxy to PostgreSQL that can be cut (connections dropped, new ones refused) and restored. */
export async function severableProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    sever() {
      open = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** fetch that must answer within ms (the contract's bound), or the test fails. */
export const within = (ms: number) => AbortSignal.timeout(ms);

export async function gql(url: string, token: string | undefined, query: string, variables?: Record<string, unknown>, ms = 2_000) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: within(ms),
  });
  return (await res.json()) as { data?: any; errors?: { extensions?: Record<string, any> }[] };
}

