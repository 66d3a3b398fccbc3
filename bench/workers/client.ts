// A load-generating client process (forked by the orchestrator, one of several): it registers
// users, holds WebSocket subscribers and sends messages, on request over the IPC channel, and
// reports what it measured. It never shares an event loop with a server.
import { closeHttp, gql } from '../lib/http.js';
import { JOIN_GUILD, REGISTER } from '../lib/operations.js';
import { errorText, pool } from '../lib/util.js';
import { Deliveries } from './deliveries.js';
import { abortSends, send, type SendArgs } from './senders.js';
import { type ConnectArgs, Sockets } from './sockets.js';

interface RegisterArgs {
  graphqlUrls: string[];
  usernames: string[];
  password: string;
  inviteCode?: string;
  concurrency: number;
}

export interface RegisteredUser {
  username: string;
  token: string;
  userId: string;
}

const deliveries = new Deliveries();
const sockets = new Sockets(deliveries);

async function retry<T>(what: string, fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw new Error(`${what}: ${errorText(err)}`);
      await new Promise((r) => setTimeout(r, 200 * i));
    }
  }
}

async function register(args: RegisterArgs) {
  const users: (RegisteredUser | null)[] = new Array(args.usernames.length).fill(null);
  let failed = 0;
  let firstError = '';
  await pool(args.usernames.length, args.concurrency, async (i) => {
    const username = args.usernames[i]!;
    const url = args.graphqlUrls[i % args.graphqlUrls.length]!;
    try {
      const data = await retry(`register ${username}`, () =>
        gql<{ register: { accessToken: string; user: { id: string } } }>(url, undefined, REGISTER, {
          input: { username, email: `${username}@bench.invalid`, password: args.password },
        }),
      );
      const user = { username, token: data.register.accessToken, userId: data.register.user.id };
      if (args.inviteCode) await retry(`join ${username}`, () => gql(url, user.token, JOIN_GUILD, { code: args.inviteCode }));
      users[i] = user;
    } catch (err) {
      failed++;
      firstError ||= errorText(err);
    }
  });
  return { users, failed, firstError };
}

const handlers: Record<string, (args: any) => Promise<unknown>> = {
  register: (args: RegisterArgs) => register(args),
  connect: (args: ConnectArgs) => sockets.connect(args),
  send: (args: SendArgs) => send(args),
  async covered(args: { phase: string }) {
    return { covered: deliveries.covered(args.phase), count: deliveries.count(args.phase), maxFirstSent: deliveries.maxFirstSent(args.phase) };
  },
  async stats(args: { phases: string[] }) {
    return {
      phases: deliveries.report(args.phases),
      errors: sockets.errors,
      firstError: sockets.firstError,
      completed: sockets.completed,
      unexpectedCloses: sockets.unexpectedCloses,
      closeCodes: Object.fromEntries(sockets.closeCodes),
      open: sockets.openCount,
    };
  },
  async abort() {
    abortSends();
    return true;
  },
  async disconnect() {
    await sockets.closeAll();
    return true;
  },
};

process.on('message', (msg: { id: number; cmd: string; args: unknown }) => {
  const handler = handlers[msg.cmd];
  if (!handler) {
    process.send?.({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` });
    return;
  }
  handler(msg.args).then(
    (result) => process.send?.({ id: msg.id, ok: true, result }),
    (err) => process.send?.({ id: msg.id, ok: false, error: errorText(err) }),
  );
});
// the orchestrator is gone: so are we
process.on('disconnect', () => {
  closeHttp();
  process.exit(0);
});
process.send?.({ ready: true });
