// The signed-in session: the token pair in localStorage, rotated before the access token
// expires, with one refresh in flight at a time across every tab of the app.
//
// refreshSession rotates: the refresh token used stops working, and presenting it again revokes
// the whole session. So two tabs must never refresh with one token. Every refresh runs under a
// cross-tab lock (the Web Locks API; a localStorage lease where it is missing, as on plain http
// from another machine, which is not a secure context). Inside the lock a tab re-reads storage:
// if another tab has already rotated the pair it adopts the new one instead of refreshing.
// Other tabs hear of every change through the storage event and a BroadcastChannel.
import { Client, fetchExchange } from '@urql/core';
import { graphql } from '../gql';
import { errorCode } from './errors';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** ISO date */
  accessTokenExpiresAt: string;
  /** when this tab learned of the pair (to know its lifetime) */
  receivedAt: number;
  userId: string;
}

export interface AuthPayloadLike {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
  user: { id: string };
}

const RefreshSession = graphql(`
  mutation RefreshSession($refreshToken: String!) {
    refreshSession(refreshToken: $refreshToken) {
      accessToken
      refreshToken
      accessTokenExpiresAt
      user {
        id
      }
    }
  }
`);

const Logout = graphql(`
  mutation Logout($refreshToken: String!) {
    logout(refreshToken: $refreshToken)
  }
`);

const STORAGE_KEY = 'chat.session.v1';
const LOCK_NAME = 'chat.session.refresh';

type Listener = () => void;

export function tokensFrom(payload: AuthPayloadLike, now = Date.now()): Tokens {
  return {
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    accessTokenExpiresAt: payload.accessTokenExpiresAt,
    receivedAt: now,
    userId: payload.user.id,
  };
}

/** Refresh this long before expiry: a minute, or a quarter of a short lifetime. */
export function refreshMarginMs(tokens: Tokens): number {
  const lifetime = Date.parse(tokens.accessTokenExpiresAt) - tokens.receivedAt;
  return Math.max(1_000, Math.min(60_000, lifetime / 4));
}

export function needsRefresh(tokens: Tokens, now = Date.now()): boolean {
  return Date.parse(tokens.accessTokenExpiresAt) - now <= refreshMarginMs(tokens);
}

export class Session {
  private tokens: Tokens | null;
  private readonly listeners = new Set<Listener>();
  private inflight: Promise<Tokens | null> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** an access token the server refused (socket closed 4403): refresh before using it again */
  private rejected: string | null = null;
  private readonly channel: BroadcastChannel | null;
  private readonly bare: Client;
  /** why the session ended, for a notice on the sign-in page */
  endedReason: string | null = null;

  constructor(private readonly graphqlUrl = '/graphql') {
    this.tokens = readStored();
    this.bare = new Client({ url: graphqlUrl, exchanges: [fetchExchange], requestPolicy: 'network-only' });
    this.channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('chat.session');
    this.channel?.addEventListener('message', () => this.adopt(readStored()));
    window.addEventListener('storage', (event) => {
      if (event.key === STORAGE_KEY || event.key === null) this.adopt(readStored());
    });
    this.schedule();
  }

  get current(): Tokens | null {
    return this.tokens;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): Tokens | null => this.tokens;

  signIn(payload: AuthPayloadLike): void {
    this.endedReason = null;
    this.store(tokensFrom(payload));
  }

  async signOut(reason: string | null = null): Promise<void> {
    const tokens = this.tokens;
    this.endedReason = reason;
    this.store(null);
    if (tokens) {
      await this.bare
        .mutation(Logout, { refreshToken: tokens.refreshToken })
        .toPromise()
        .catch(() => undefined);
    }
  }

  /** A usable access token, refreshed first when it is about to expire or was refused. */
  async accessToken(): Promise<string | null> {
    const tokens = this.tokens;
    if (!tokens) return null;
    if (this.rejected === tokens.accessToken || needsRefresh(tokens)) {
      const next = await this.refresh().catch(() => this.tokens);
      return next?.accessToken ?? null;
    }
    return tokens.accessToken;
  }

  /** True when the next request should wait for a refresh first. */
  shouldRefresh(): boolean {
    const tokens = this.tokens;
    return Boolean(tokens && (this.rejected === tokens.accessToken || needsRefresh(tokens)));
  }

  /** The server refused this access token (e.g. a socket closed with 4403). */
  markRejected(accessToken: string | null): void {
    if (accessToken && this.tokens?.accessToken === accessToken) this.rejected = accessToken;
  }

  /** Rotates the pair once, whatever the number of callers in this tab or in other tabs. */
  refresh(): Promise<Tokens | null> {
    if (!this.inflight) {
      const seen = this.tokens?.refreshToken ?? null;
      this.inflight = withLock(LOCK_NAME, () => this.refreshLocked(seen)).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async refreshLocked(seen: string | null): Promise<Tokens | null> {
    const stored = readStored();
    if (!stored) {
      this.adopt(null);
      return null;
    }
    // Another tab rotated the pair while this one waited for the lock: take theirs.
    if (stored.refreshToken !== seen && !needsRefresh(stored) && this.rejected !== stored.accessToken) {
      this.adopt(stored);
      return stored;
    }
    const result = await this.bare.mutation(RefreshSession, { refreshToken: stored.refreshToken }).toPromise();
    if (result.data) {
      const next = tokensFrom(result.data.refreshSession);
      this.store(next);
      return next;
    }
    const code = result.error ? errorCode(result.error) : null;
    if (result.error?.networkError || code === 'RATE_LIMITED' || code === 'INTERNAL_SERVER_ERROR') {
      // Not a verdict on the session: keep it and try again later.
      this.schedule(5_000);
      throw result.error;
    }
    // The refresh token is no longer valid (revoked, expired or reused): the session is over.
    this.endedReason = 'Your session has ended. Please sign in again.';
    this.store(null);
    return null;
  }

  private store(tokens: Tokens | null): void {
    if (tokens) localStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
    else localStorage.removeItem(STORAGE_KEY);
    this.channel?.postMessage('changed');
    this.adopt(tokens);
  }

  private adopt(tokens: Tokens | null): void {
    const before = this.tokens;
    this.tokens = tokens;
    if (tokens?.accessToken !== this.rejected) this.rejected = null;
    this.schedule();
    if (before?.accessToken !== tokens?.accessToken || before?.userId !== tokens?.userId) {
      for (const listener of this.listeners) listener();
    }
  }

  private schedule(inMs?: number): void {
    clearTimeout(this.timer);
    const tokens = this.tokens;
    if (!tokens) return;
    const due = inMs ?? Date.parse(tokens.accessTokenExpiresAt) - refreshMarginMs(tokens) - Date.now();
    this.timer = setTimeout(
      () => {
        this.refresh().catch(() => undefined);
      },
      Math.max(0, due),
    );
  }
}

function readStored(): Tokens | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<Tokens>;
    if (typeof value.accessToken !== 'string' || typeof value.refreshToken !== 'string') return null;
    return value as Tokens;
  } catch {
    return null;
  }
}

/** Runs `fn` while holding a lock shared by every tab of this origin. */
export async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request(name, { mode: 'exclusive' }, fn) as Promise<T>;
  }
  return withStorageLease(name, fn);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A lease in localStorage for browsers without Web Locks (insecure contexts). */
async function withStorageLease<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const key = `${name}.lease`;
  const me = randomId();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const lease = parseLease(localStorage.getItem(key));
    if (!lease || lease.until < Date.now() || Date.now() > deadline) {
      localStorage.setItem(key, JSON.stringify({ owner: me, until: Date.now() + 10_000 }));
      await sleep(30);
      if (parseLease(localStorage.getItem(key))?.owner === me) break;
    }
    await sleep(50 + Math.random() * 100);
  }
  try {
    return await fn();
  } finally {
    if (parseLease(localStorage.getItem(key))?.owner === me) localStorage.removeItem(key);
  }
}

function parseLease(raw: string | null): { owner: string; until: number } | null {
  try {
    return raw ? (JSON.parse(raw) as { owner: string; until: number }) : null;
  } catch {
    return null;
  }
}

/** crypto.randomUUID needs a secure context; getRandomValues does not. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
