// What the scenarios share: the scratch database, the API instances, the yardstick relays, the
// client workers, the registered users, the guild and its channels. Everything is started on
// first use and torn down by cleanup(), also after a failure.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type ScratchDatabase, createScratchDatabase } from '../../test/support/database.js';
import type { RegisteredUser } from '../workers/client.js';
import { type ApiInstance, startApi } from './api.js';
import { gql } from './http.js';
import type { Knobs } from './knobs.js';
import { CREATE_CHANNEL, CREATE_GUILD, CREATE_INVITE, REGISTER } from './operations.js';
import { type Child, ROOT, cpuProfileFlags, freePort, spawnChild, stopAll, waitFor200 } from './procs.js';
import { Report } from './report.js';
import { errorText, pool, withTimeout } from './util.js';
import { type Worker, startWorker, startWorkers } from './workers.js';

export const PASSWORD = 'correct horse battery staple';

export interface User extends RegisteredUser {
  dbId?: string;
}

export interface ChannelRef {
  name: string;
  /** global id, as the API names it */
  id: string;
  /** the row's id in "Channel" */
  dbId: string;
}

export interface Relay {
  name: string;
  child: Child;
  url: string;
  wsUrl: string;
  pid: number;
}

export class Bench {
  readonly runId = randomBytes(3).toString('hex');
  readonly jwtSecret = randomBytes(32).toString('base64url');
  readonly report = new Report();
  tmp = '';
  scratch?: ScratchDatabase;
  db?: pg.Pool;
  instances: ApiInstance[] = [];
  relays: Relay[] = [];
  workers: Worker[] = [];
  sender?: Worker;
  users: User[] = [];
  owner?: User;
  guildId = '';
  inviteCode = '';
  readonly channels = new Map<string, ChannelRef>();
  extraChildren: { stop(): Promise<void> }[] = [];

  constructor(readonly knobs: Knobs) {}

  async init(): Promise<void> {
    this.tmp = await mkdtemp(path.join(os.tmpdir(), 'chat-bench-'));
  }

  get relayPrefix(): string {
    return `bench:relay:${this.runId}:`;
  }

  /** The environment of every API instance the benchmark starts on PostgreSQL + Redis. */
  apiEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.scratch!.url,
      REDIS_URL: this.knobs.redisUrl,
      JWT_SECRET: this.jwtSecret,
      // registering thousands of users is set-up, not the measured path
      ARGON2_MEMORY_KIB: '1024',
      // measure the server, not the per-user limit
      MESSAGE_RATE_LIMIT: '1000000',
      LOGIN_FAILURE_LIMIT: '0',
      // every client of the benchmark comes from 127.0.0.1: per-address limits off (settings an
      // older server does not know are ignored by its configuration)
      REGISTER_ADDRESS_LIMIT: '0',
      LOGIN_ADDRESS_LIMIT: '0',
      SEARCH_RATE_LIMIT: '0',
      MESSAGE_SEARCH_RATE_LIMIT: '0',
      WS_CONNECTIONS_PER_MINUTE_PER_ADDRESS: '0',
      // scenario "subscriptions" opens 10,000 on one socket, as one user
      WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '20000',
      WS_MAX_SUBSCRIPTIONS_PER_USER: '20000',
      // tokens must outlive the run: an expired one closes its socket with 4403
      ACCESS_TOKEN_TTL_SECONDS: '7200',
      UPLOAD_DIR: path.join(this.tmp, 'uploads'),
      PGLITE_DATA_DIR: path.join(this.tmp, 'unused-pglite'),
      MIGRATE_ON_START: 'true',
      ...extra,
    };
  }

  async ensureDatabase(): Promise<void> {
    if (this.scratch) return;
    this.scratch = await createScratchDatabase(this.knobs.adminUrl, 'chat_bench');
    this.db = new pg.Pool({ connectionString: this.scratch.url, max: 4 });
    this.db.on('error', () => {});
  }

  /** API instances A (and B, …) on the scratch database and Redis. */
  async ensureInstances(n: number): Promise<ApiInstance[]> {
    await this.ensureDatabase();
    // an instance that died is reported and replaced
    for (const dead of this.instances.filter((i) => !i.child.isRunning())) {
      this.report.note(`${dead.name} had exited; restarted. Its last output: ${dead.child.tail().split('\n').slice(-3).join(' / ')}`);
    }
    this.instances = this.instances.filter((i) => i.child.isRunning());
    // the first one migrates the empty database alone, the others start beside each other
    if (!this.instances.length) this.instances.push(await startApi('api-A', this.apiEnv()));
    const missing = n - this.instances.length;
    if (missing > 0) {
      const started = await Promise.all(
        Array.from({ length: missing }, (_, i) => startApi(`api-${String.fromCharCode(66 + this.instances.length - 1 + i)}`, this.apiEnv())),
      );
      this.instances.push(...started);
    }
    // what they printed while starting is not news
    for (const i of this.instances) if (!this.linesSeen.has(i.name)) this.linesSeen.set(i.name, i.child.lineCount());
    return this.instances.slice(0, n);
  }

  async startRelay(name: string, nodeFlags: string[] = []): Promise<Relay> {
    const port = await freePort();
    const child = spawnChild(name, process.execPath, [...cpuProfileFlags(), ...nodeFlags, '--import', 'tsx', path.join(ROOT, 'bench/yardsticks/relay.ts')], {
      env: { ...process.env, PORT: String(port), REDIS_URL: this.knobs.redisUrl, RELAY_PREFIX: this.relayPrefix },
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor200(`${url}/health`, 30_000, child);
    return { name, child, url, wsUrl: `ws://127.0.0.1:${port}/`, pid: child.pid };
  }

  async ensureRelays(n: number): Promise<Relay[]> {
    this.relays = this.relays.filter((r) => r.child.isRunning());
    while (this.relays.length < n) {
      const started = await Promise.all(
        Array.from({ length: n - this.relays.length }, (_, i) => this.startRelay(`relay-${this.relays.length + i + 1}`)),
      );
      this.relays.push(...started);
    }
    return this.relays.slice(0, n);
  }

  async ensureWorkers(): Promise<void> {
    if (this.workers.some((w) => !w.child.isRunning()) || (this.sender && !this.sender.child.isRunning())) {
      this.report.note('a client worker had exited; all were restarted');
      await this.resetWorkers();
      return;
    }
    if (!this.workers.length) this.workers = await startWorkers('client', this.knobs.workers);
    this.sender ??= await startWorker('sender');
  }

  /** After a scenario timed out: its workers may still be busy, so replace them. */
  async resetWorkers(): Promise<void> {
    await Promise.all([...this.workers, ...(this.sender ? [this.sender] : [])].map((w) => w.stop()));
    this.workers = [];
    this.sender = undefined;
    await this.ensureWorkers();
  }

  async disconnectAll(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.disconnect()));
  }

  /**
   * Registers users up to `count` (distinct users, spread over the instances and the worker
   * processes), every one a member of the bench guild through its invite.
   */
  async ensureUsers(count: number): Promise<User[]> {
    await this.ensureGuild();
    await this.ensureWorkers();
    const missing = count - this.users.length;
    if (missing <= 0) return this.users;
    const t0 = Date.now();
    const names = Array.from({ length: missing }, (_, i) => `b${this.runId}u${this.users.length + i}`);
    const workers = [...this.workers, this.sender!];
    const slices = workers.map((_, w) => names.filter((__, i) => i % workers.length === w));
    const results = await Promise.all(
      workers.map((w, k) =>
        w.register({
          graphqlUrls: this.instances.map((i) => i.graphqlUrl),
          usernames: slices[k]!,
          password: PASSWORD,
          inviteCode: this.inviteCode,
          concurrency: 4,
        }),
      ),
    );
    const byName = new Map<string, User>();
    let failed = 0;
    let firstError = '';
    for (const r of results) {
      for (const u of r.users) if (u) byName.set(u.username, u);
      failed += r.failed;
      firstError ||= r.firstError;
    }
    for (const name of names) {
      const u = byName.get(name);
      if (u) this.users.push(u);
    }
    console.error(`bench: registered ${missing - failed} users in ${((Date.now() - t0) / 1000).toFixed(1)} s${failed ? ` (${failed} failed: ${firstError})` : ''}`);
    if (this.users.length < count) throw new Error(`could register only ${this.users.length} of ${count} users: ${firstError}`);
    return this.users;
  }

  async ensureGuild(): Promise<void> {
    if (this.guildId) return;
    const [a] = await this.ensureInstances(1);
    const name = `b${this.runId}owner`;
    const reg = await gql<{ register: { accessToken: string; user: { id: string } } }>(a!.graphqlUrl, undefined, REGISTER, {
      input: { username: name, email: `${name}@bench.invalid`, password: PASSWORD },
    });
    this.owner = { username: name, token: reg.register.accessToken, userId: reg.register.user.id };
    const { createGuild } = await gql<{ createGuild: { id: string; channels: { id: string; name: string }[] } }>(
      a!.graphqlUrl,
      this.owner.token,
      CREATE_GUILD,
      { input: { name: 'Bench' } },
    );
    this.guildId = createGuild.id;
    const general = createGuild.channels[0]!;
    this.channels.set('general', { name: 'general', id: general.id, dbId: await this.channelDbId(general.name) });
    const { createInvite } = await gql<{ createInvite: { code: string } }>(a!.graphqlUrl, this.owner.token, CREATE_INVITE, {
      guildId: this.guildId,
    });
    this.inviteCode = createInvite.code;
  }

  private async channelDbId(name: string): Promise<string> {
    // the guild is the only one with this owner: find the row by the owner's username
    const { rows } = await this.db!.query<{ id: string }>(
      `SELECT c.id FROM "Channel" c JOIN "Guild" g ON g.id = c."guildId" JOIN "User" u ON u.id = g."ownerId"
        WHERE u.username = $1 AND c.name = $2`,
      [this.owner!.username, name],
    );
    if (!rows[0]) throw new Error(`channel ${name} not found in the database`);
    return rows[0].id;
  }

  /** Text channels of the bench guild, created on first use. */
  async ensureChannels(names: string[]): Promise<ChannelRef[]> {
    await this.ensureGuild();
    const [a] = this.instances;
    const missing = names.filter((n) => !this.channels.has(n));
    await pool(missing.length, 4, async (i) => {
      const name = missing[i]!;
      const { createChannel } = await gql<{ createChannel: { id: string } }>(a!.graphqlUrl, this.owner!.token, CREATE_CHANNEL, {
        input: { guildId: this.guildId, name },
      });
      this.channels.set(name, { name, id: createChannel.id, dbId: '' });
    });
    if (missing.length) {
      const { rows } = await this.db!.query<{ id: string; name: string }>(
        `SELECT c.id, c.name FROM "Channel" c JOIN "Guild" g ON g.id = c."guildId" JOIN "User" u ON u.id = g."ownerId"
          WHERE u.username = $1 AND c.name = ANY($2)`,
        [this.owner!.username, missing],
      );
      for (const r of rows) this.channels.get(r.name)!.dbId = r.id;
    }
    return names.map((n) => this.channels.get(n)!);
  }

  /** The users' row ids in "User" (for the yardsticks and the SQL seed). */
  async dbIds(users: User[]): Promise<void> {
    const need = users.filter((u) => !u.dbId);
    if (!need.length) return;
    const { rows } = await this.db!.query<{ id: string; username: string }>(`SELECT id, username FROM "User" WHERE username = ANY($1)`, [
      need.map((u) => u.username),
    ]);
    const byName = new Map(rows.map((r) => [r.username, r.id]));
    for (const u of need) u.dbId = byName.get(u.username);
  }

  private readonly linesSeen = new Map<string, number>();

  /** Notes what the API instances logged (LOG_LEVEL=warn: warnings and errors) since the last call. */
  noteServerLogs(scenario: string): void {
    for (const inst of this.instances) {
      const total = inst.child.lineCount();
      const seen = this.linesSeen.get(inst.name) ?? 0;
      this.linesSeen.set(inst.name, total);
      if (total <= seen) continue;
      const last = inst.child.tail().split('\n').pop() ?? '';
      let text = last;
      try {
        const j = JSON.parse(last) as { msg?: string; err?: { message?: string }; level?: number };
        text = `${j.msg ?? ''}${j.err?.message ? `: ${j.err.message}` : ''}`;
      } catch {
        /* not JSON */
      }
      this.report.note(`${scenario}: ${inst.name} logged ${total - seen} warning/error line(s); the last: ${text.slice(0, 240)}`);
    }
  }

  async cleanup(): Promise<void> {
    const step = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await withTimeout(what, 15_000, fn());
      } catch (err) {
        console.error(`bench: cleanup: ${what}: ${errorText(err)}`);
      }
    };
    await step('workers', () => Promise.all([...this.workers, ...(this.sender ? [this.sender] : [])].map((w) => w.stop())));
    await step('children', () => Promise.all(this.extraChildren.map((c) => c.stop())));
    await step('instances', () => Promise.all(this.instances.map((i) => i.stop())));
    await step('everything else', () => stopAll());
    await step('database pool', () => this.db?.end() ?? Promise.resolve());
    if (this.knobs.keepDatabase && this.scratch) console.error(`bench: kept the scratch database: ${this.scratch.url}`);
    else await step('scratch database', () => this.scratch?.drop() ?? Promise.resolve());
    if (this.tmp) await step('temp dir', () => rm(this.tmp, { recursive: true, force: true }));
  }
}
