// Registries shared by every instance through Redis. Connections and typists are sorted-set
// members scored by their expiry time (ms): whatever a crashed instance left behind lapses,
// and the sweep of any surviving instance reports it, exactly once (ZREM decides).
import type { Redis } from 'ioredis';
import type { ActivityRegistry, ConnectionRegistry, TypingRegistry, VoiceRegistry, VoiceStateEntry } from './registries.js';

const typingKey = (channelId: string) => `typing:${channelId}`;
const connsKey = (userId: string) => `presence:conns:${userId}`;
const ONLINE_KEY = 'presence:online';
const SWEEP_BATCH = 200;
/**
 * Entries renewed per heartbeat script. One script call per chunk instead of three or four
 * commands per entry: a pipeline of 2,000 connections built 6,000 ioredis commands in one run
 * of JavaScript (~45 ms, and the garbage after it), during which no delivery went out. A chunk
 * holds Redis for well under a millisecond, and the event loop gets a turn between chunks.
 */
const HEARTBEAT_CHUNK = 200;

/** Runs a heartbeat script (KEYS: `firstKey`, then each entry's; ARGV: expiresAt, then each entry's) per chunk of entries, one chunk after the other. */
async function renewInChunks<T>(
  redis: Redis,
  script: string,
  firstKey: string,
  expiresAt: number,
  entries: readonly T[],
  add: (entry: T, keys: string[], args: (string | number)[]) => void,
): Promise<void> {
  for (let i = 0; i < entries.length; i += HEARTBEAT_CHUNK) {
    const keys = [firstKey];
    const args: (string | number)[] = [expiresAt];
    for (const entry of entries.slice(i, i + HEARTBEAT_CHUNK)) add(entry, keys, args);
    await redis.eval(script, keys.length, ...keys, ...args);
  }
}

// KEYS: conns, online. ARGV: connectionId, expiresAt, now, userId
const CONNECT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[4])
return before == 0 and 1 or 0`;

// KEYS: conns, online. ARGV: connectionId, now, userId
const DISCONNECT = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
return redis.call('ZREM', KEYS[2], ARGV[3])`;

// KEYS: online, then the conns key of each connection. ARGV: expiresAt, then connectionId,
// userId pairs in the order of the keys.
const CONNECTIONS_HEARTBEAT = `
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', ARGV[1], ARGV[2 * i - 2])
  redis.call('PEXPIREAT', KEYS[i], ARGV[1])
  redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2 * i - 1])
end
return 0`;

// KEYS: conns, online. ARGV: now, userId
const SWEEP_ONE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
if score and tonumber(score) > tonumber(ARGV[1]) then return 0 end
return redis.call('ZREM', KEYS[2], ARGV[2])`;

// KEYS: typing. ARGV: userId, now. 1 when the user was typing and had not expired yet.
const STOP_TYPING = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if score and tonumber(score) > tonumber(ARGV[2]) then return 1 end
return 0`;

/** The scripts above as commands of a connection: sent by hash (EVALSHA), not as their text
 *  on every call; ioredis loads a script the server does not know yet. */
interface ScriptCommands {
  chatConnect(conns: string, online: string, connectionId: string, expiresAt: number, now: number, userId: string): Promise<number>;
  chatDisconnect(conns: string, online: string, connectionId: string, now: number, userId: string): Promise<number>;
  chatSweepOne(conns: string, online: string, now: number, userId: string): Promise<number>;
  chatStopTyping(typing: string, userId: string, now: number): Promise<number>;
}

const scripted = new WeakMap<Redis, ScriptCommands>();

function scripts(redis: Redis): ScriptCommands {
  let commands = scripted.get(redis);
  if (!commands) {
    redis.defineCommand('chatConnect', { numberOfKeys: 2, lua: CONNECT });
    redis.defineCommand('chatDisconnect', { numberOfKeys: 2, lua: DISCONNECT });
    redis.defineCommand('chatSweepOne', { numberOfKeys: 2, lua: SWEEP_ONE });
    redis.defineCommand('chatStopTyping', { numberOfKeys: 1, lua: STOP_TYPING });
    commands = redis as unknown as ScriptCommands;
    scripted.set(redis, commands);
  }
  return commands;
}

export class RedisTypingRegistry implements TypingRegistry {
  private readonly scripts: ScriptCommands;

  constructor(private readonly redis: Redis) {
    this.scripts = scripts(redis);
  }

  async start(channelId: string, userId: string, expiresAt: number) {
    await this.redis.multi().zadd(typingKey(channelId), expiresAt, userId).pexpireat(typingKey(channelId), expiresAt).exec();
  }

  async stop(channelId: string, userId: string) {
    return (await this.scripts.chatStopTyping(typingKey(channelId), userId, Date.now())) === 1;
  }

  async typingIn(channelId: string) {
    return this.redis.zrangebyscore(typingKey(channelId), `(${Date.now()}`, '+inf');
  }
}

export class RedisConnectionRegistry implements ConnectionRegistry {
  private readonly scripts: ScriptCommands;

  constructor(private readonly redis: Redis) {
    this.scripts = scripts(redis);
  }

  async connect(userId: string, connectionId: string, expiresAt: number) {
    const result = await this.scripts.chatConnect(connsKey(userId), ONLINE_KEY, connectionId, expiresAt, Date.now(), userId);
    return result === 1;
  }

  async disconnect(userId: string, connectionId: string) {
    const result = await this.scripts.chatDisconnect(connsKey(userId), ONLINE_KEY, connectionId, Date.now(), userId);
    return result === 1;
  }

  async heartbeat(connections: { userId: string; connectionId: string }[], expiresAt: number) {
    await renewInChunks(this.redis, CONNECTIONS_HEARTBEAT, ONLINE_KEY, expiresAt, connections, ({ userId, connectionId }, keys, args) => {
      keys.push(connsKey(userId));
      args.push(connectionId, userId);
    });
  }

  async sweep(now: number) {
    const candidates = await this.redis.zrangebyscore(ONLINE_KEY, '-inf', now, 'LIMIT', 0, SWEEP_BATCH);
    const gone: string[] = [];
    for (const userId of candidates) {
      if ((await this.scripts.chatSweepOne(connsKey(userId), ONLINE_KEY, now, userId)) === 1) gone.push(userId);
    }
    return gone;
  }

  async onlineAmong(userIds: string[]) {
    if (userIds.length === 0) return new Set<string>();
    const scores = await this.redis.zmscore(ONLINE_KEY, ...userIds);
    const now = Date.now();
    return new Set(userIds.filter((_, i) => scores[i] != null && Number(scores[i]) > now));
  }
}

const holdsKey = (channelId: string, userId: string) => `active:holds:${channelId}:${userId}`;
const activeKey = (channelId: string) => `active:channel:${channelId}`;
/** every (channel, user) entry scored by its latest expiry: what the sweep looks through */
const ACTIVE_ENTRIES_KEY = 'active:entries';
const entryOf = (channelId: string, userId: string) => `${channelId} ${userId}`;

// KEYS: holds, channel, entries. ARGV: holdId, expiresAt, now, userId, entry
const ENTER = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[3], 'GT', ARGV[2], ARGV[5])
return before == 0 and 1 or 0`;

// KEYS: holds, channel, entries. ARGV: holdId, now, userId, entry
const LEAVE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
redis.call('ZREM', KEYS[3], ARGV[4])
return redis.call('ZREM', KEYS[2], ARGV[3])`;

// KEYS: entries, then holds, channel pairs. ARGV: expiresAt, then holdId, userId, entry
// triples in the order of the pairs.
const ACTIVITY_HEARTBEAT = `
for j = 0, (#KEYS - 1) / 2 - 1 do
  local holds, channel = KEYS[2 + 2 * j], KEYS[3 + 2 * j]
  redis.call('ZADD', holds, 'XX', ARGV[1], ARGV[2 + 3 * j])
  redis.call('PEXPIREAT', holds, ARGV[1])
  redis.call('ZADD', channel, 'GT', ARGV[1], ARGV[3 + 3 * j])
  redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[4 + 3 * j])
end
return 0`;

// KEYS: holds, channel, entries. ARGV: now, userId, entry
const SWEEP_ACTIVE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local score = redis.call('ZSCORE', KEYS[3], ARGV[3])
if score and tonumber(score) > tonumber(ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[3], ARGV[3])
return redis.call('ZREM', KEYS[2], ARGV[2])`;

export class RedisActivityRegistry implements ActivityRegistry {
  constructor(private readonly redis: Redis) {}

  async enter(channelId: string, userId: string, holdId: string, expiresAt: number) {
    const keys = [holdsKey(channelId, userId), activeKey(channelId), ACTIVE_ENTRIES_KEY];
    return (await this.redis.eval(ENTER, 3, ...keys, holdId, expiresAt, Date.now(), userId, entryOf(channelId, userId))) === 1;
  }

  async leave(channelId: string, userId: string, holdId: string) {
    const keys = [holdsKey(channelId, userId), activeKey(channelId), ACTIVE_ENTRIES_KEY];
    return (await this.redis.eval(LEAVE, 3, ...keys, holdId, Date.now(), userId, entryOf(channelId, userId))) === 1;
  }

  async heartbeat(holds: { channelId: string; userId: string; holdId: string }[], expiresAt: number) {
    await renewInChunks(this.redis, ACTIVITY_HEARTBEAT, ACTIVE_ENTRIES_KEY, expiresAt, holds, ({ channelId, userId, holdId }, keys, args) => {
      keys.push(holdsKey(channelId, userId), activeKey(channelId));
      args.push(holdId, userId, entryOf(channelId, userId));
    });
  }

  async sweep(now: number) {
    const candidates = await this.redis.zrangebyscore(ACTIVE_ENTRIES_KEY, '-inf', now, 'LIMIT', 0, SWEEP_BATCH);
    const gone: { channelId: string; userId: string }[] = [];
    for (const entry of candidates) {
      const [channelId = '', userId = ''] = entry.split(' ');
      const keys = [holdsKey(channelId, userId), activeKey(channelId), ACTIVE_ENTRIES_KEY];
      if ((await this.redis.eval(SWEEP_ACTIVE, 3, ...keys, now, userId, entry)) === 1) gone.push({ channelId, userId });
    }
    return gone;
  }

  async activeIn(channelId: string) {
    return this.redis.zrangebyscore(activeKey(channelId), `(${Date.now()}`, '+inf');
  }
}

/** user → voice state JSON */
const VOICE_STATES_KEY = 'voice:states';
/** user → expiry of their voice state: liveness, and what the sweep looks through */
const VOICE_ENTRIES_KEY = 'voice:entries';
/** an index of who may be in a channel: members are checked against the states when read */
const voiceChannelKey = (channelId: string) => `voice:channel:${channelId}`;

// The number of other users with a live state in the channel KEYS[3] (ARGV[5] its id), counted
// up to ARGV[6]: the channel index holds who may be there, the states say who is.
const VOICE_OTHERS = `
local function others(userId, now, channelId, atMost)
  local n = 0
  for _, member in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    if member ~= userId then
      local score = redis.call('ZSCORE', KEYS[2], member)
      if score and tonumber(score) > now then
        local raw = redis.call('HGET', KEYS[1], member)
        if raw and cjson.decode(raw).channelId == channelId then
          n = n + 1
          if n >= atMost then return n end
        end
      end
    end
  end
  return n
end`;

// KEYS: states, entries, channel. ARGV: userId, json, expiresAt, now, channelId, limit (0 = none).
// The replaced state if it was live; 'full' (nothing written) when limit others are in the channel.
const VOICE_PUT = `${VOICE_OTHERS}
local limit = tonumber(ARGV[6])
if limit > 0 and others(ARGV[1], tonumber(ARGV[4]), ARGV[5], limit) >= limit then return 'full' end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
local before = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
if before and score and tonumber(score) > tonumber(ARGV[4]) then return before end
return false`;

// The user's state if it is live (expiry after now) and of this session, with its expiry; nil otherwise.
const VOICE_LIVE_SESSION = `
local function live_session(userId, sessionId, now)
  local score = redis.call('ZSCORE', KEYS[2], userId)
  if not score or tonumber(score) <= now then return nil end
  local raw = redis.call('HGET', KEYS[1], userId)
  if not raw then return nil end
  local state = cjson.decode(raw)
  if state.sessionId ~= sessionId then return nil end
  return state, score
end`;

// KEYS: states, entries, channel (of the patch, or any key). ARGV: userId, sessionId, patch, now.
const VOICE_UPDATE = `${VOICE_LIVE_SESSION}
local state, score = live_session(ARGV[1], ARGV[2], tonumber(ARGV[4]))
if not state then return false end
for k, v in pairs(cjson.decode(ARGV[3])) do state[k] = v end
local encoded = cjson.encode(state)
redis.call('HSET', KEYS[1], ARGV[1], encoded)
if state.channelId then redis.call('ZADD', KEYS[3], score, ARGV[1]) end
return encoded`;

// KEYS: states, entries, channel (the target). ARGV: userId, sessionId, patch, now, channelId, limit.
const VOICE_MOVE = `${VOICE_OTHERS}
${VOICE_LIVE_SESSION}
local state, score = live_session(ARGV[1], ARGV[2], tonumber(ARGV[4]))
if not state then return false end
local limit = tonumber(ARGV[6])
if limit > 0 and others(ARGV[1], tonumber(ARGV[4]), ARGV[5], limit) >= limit then return 'full' end
for k, v in pairs(cjson.decode(ARGV[3])) do state[k] = v end
local encoded = cjson.encode(state)
redis.call('HSET', KEYS[1], ARGV[1], encoded)
redis.call('ZADD', KEYS[3], score, ARGV[1])
return encoded`;

// KEYS: states, entries. ARGV: userId, sessionId ('' = any), now.
const VOICE_REMOVE = `
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) <= tonumber(ARGV[3]) then return false end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
if ARGV[2] ~= '' and cjson.decode(raw).sessionId ~= ARGV[2] then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return raw`;

// KEYS: states, entries. ARGV: expiresAt, then userId, sessionId pairs.
const VOICE_HEARTBEAT = `
for i = 2, #ARGV, 2 do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw and cjson.decode(raw).sessionId == ARGV[i + 1] then redis.call('ZADD', KEYS[2], 'XX', 'GT', ARGV[1], ARGV[i]) end
end
return 0`;

// KEYS: states, entries. ARGV: userId, now. The lapsed state, once.
const VOICE_SWEEP_ONE = `
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
redis.call('ZREM', KEYS[2], ARGV[1])
local raw = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
return raw`;

const parseVoice = (raw: unknown): VoiceStateEntry | null => (typeof raw === 'string' ? (JSON.parse(raw) as VoiceStateEntry) : null);

export class RedisVoiceRegistry implements VoiceRegistry {
  constructor(private readonly redis: Redis) {}

  async put(entry: VoiceStateEntry, expiresAt: number, limit = 0) {
    const keys = [VOICE_STATES_KEY, VOICE_ENTRIES_KEY, voiceChannelKey(entry.channelId)];
    const raw = await this.redis.eval(VOICE_PUT, 3, ...keys, entry.userId, JSON.stringify(entry), expiresAt, Date.now(), entry.channelId, limit);
    return raw === 'full' ? 'full' : parseVoice(raw);
  }

  async move(userId: string, sessionId: string, patch: Partial<VoiceStateEntry> & { channelId: string }, limit: number) {
    const keys = [VOICE_STATES_KEY, VOICE_ENTRIES_KEY, voiceChannelKey(patch.channelId)];
    const raw = await this.redis.eval(VOICE_MOVE, 3, ...keys, userId, sessionId, JSON.stringify(patch), Date.now(), patch.channelId, limit);
    return raw === 'full' ? 'full' : parseVoice(raw);
  }

  async get(userId: string) {
    const [score, raw] = await Promise.all([this.redis.zscore(VOICE_ENTRIES_KEY, userId), this.redis.hget(VOICE_STATES_KEY, userId)]);
    return score !== null && Number(score) > Date.now() ? parseVoice(raw) : null;
  }

  async update(userId: string, sessionId: string, patch: Partial<VoiceStateEntry>) {
    const channelKey = voiceChannelKey(patch.channelId ?? '-');
    return parseVoice(
      await this.redis.eval(VOICE_UPDATE, 3, VOICE_STATES_KEY, VOICE_ENTRIES_KEY, channelKey, userId, sessionId, JSON.stringify(patch), Date.now()),
    );
  }

  async remove(userId: string, sessionId?: string) {
    return parseVoice(await this.redis.eval(VOICE_REMOVE, 2, VOICE_STATES_KEY, VOICE_ENTRIES_KEY, userId, sessionId ?? '', Date.now()));
  }

  async inChannel(channelId: string) {
    const key = voiceChannelKey(channelId);
    const userIds = await this.redis.zrange(key, 0, -1);
    if (userIds.length === 0) return [];
    const [raws, scores] = await Promise.all([this.redis.hmget(VOICE_STATES_KEY, ...userIds), this.redis.zmscore(VOICE_ENTRIES_KEY, ...userIds)]);
    const now = Date.now();
    const states: VoiceStateEntry[] = [];
    const stale: string[] = [];
    userIds.forEach((userId, i) => {
      const state = parseVoice(raws[i]);
      const score = scores[i];
      if (state && state.channelId === channelId && score != null && Number(score) > now) states.push(state);
      else if (!state || state.channelId !== channelId) stale.push(userId);
    });
    // the index keeps who moved or left until read: drop them (a racing put adds them back)
    if (stale.length) await this.redis.zrem(key, ...stale);
    return states.sort((a, b) => a.joinedAt.localeCompare(b.joinedAt) || a.userId.localeCompare(b.userId));
  }

  async heartbeat(sessions: { userId: string; sessionId: string }[], expiresAt: number) {
    if (sessions.length === 0) return;
    await this.redis.eval(VOICE_HEARTBEAT, 2, VOICE_STATES_KEY, VOICE_ENTRIES_KEY, expiresAt, ...sessions.flatMap((s) => [s.userId, s.sessionId]));
  }

  async sweep(now: number) {
    const candidates = await this.redis.zrangebyscore(VOICE_ENTRIES_KEY, '-inf', now, 'LIMIT', 0, SWEEP_BATCH);
    const gone: VoiceStateEntry[] = [];
    for (const userId of candidates) {
      const state = parseVoice(await this.redis.eval(VOICE_SWEEP_ONE, 2, VOICE_STATES_KEY, VOICE_ENTRIES_KEY, userId, now));
      if (state) gone.push(state);
    }
    return gone;
  }
}
