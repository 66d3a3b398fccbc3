// The sending side of the load: open-loop at a fixed rate (a slow server does not slow the
// offered load down; sends past maxInFlight are skipped and counted), or closed-loop with N
// concurrent senders, each its own user.
import { post } from '../lib/http.js';
import { SEND_MESSAGE } from '../lib/operations.js';
import { Histogram, type HistogramData } from '../lib/stats.js';
import { errorText, sleep, wallNow } from '../lib/util.js';
import { content } from './deliveries.js';

export interface Slot {
  /** api: the /graphql URL; relay: the relay's base URL; ip: the yardstick's base URL */
  url: string;
  token?: string;
  /** api: the channel's global id; relay: the channel name; ip: the channel's database id */
  channel: string;
  /** ip only: the author's database id */
  authorId?: string;
}

export interface SendArgs {
  target: 'api' | 'relay' | 'ip';
  mode: 'rate' | 'closed' | 'once';
  phase: string;
  slots: Slot[];
  /** rate: messages per second (this worker) */
  rate?: number;
  durationMs?: number;
  /** closed: concurrent senders; once: concurrency */
  concurrency?: number;
  maxInFlight?: number;
}

export interface SendResult {
  attempted: number;
  ok: number;
  failed: number;
  skipped: number;
  firstError: string;
  okPerChannel: Record<string, number>;
  latency: HistogramData;
  startedAt: number;
  endedAt: number;
}

let aborted = false;
/** Ends the running rate-mode send at its next message. */
export function abortSends(): void {
  aborted = true;
}

let fakeSeq = 0;
const fakeId = () => `01BENCH${(fakeSeq++).toString(36).toUpperCase().padStart(19, '0')}`;

function request(target: SendArgs['target'], slot: Slot, phase: string): { url: string; body: string; headers: Record<string, string> } {
  const text = content(phase);
  switch (target) {
    case 'api':
      return {
        url: slot.url,
        body: JSON.stringify({ query: SEND_MESSAGE, variables: { input: { channelId: slot.channel, content: text } } }),
        headers: { accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${slot.token}` },
      };
    case 'relay':
      // the relay forwards these bytes as they are: the same shape the API delivers
      return {
        url: `${slot.url}/publish?channel=${encodeURIComponent(slot.channel)}`,
        body: JSON.stringify({
          data: {
            messageAdded: {
              id: fakeId(),
              content: text,
              createdAt: new Date().toISOString(),
              author: { id: 'VXNlcjowMUJFTkNIUkVMQVlBVVRIT1IwMDAw', username: 'relayauthor', displayName: 'relayauthor' },
            },
          },
        }),
        headers: {},
      };
    case 'ip':
      return { url: `${slot.url}/send`, body: JSON.stringify({ channelId: slot.channel, authorId: slot.authorId, content: text }), headers: {} };
  }
}

export async function send(args: SendArgs): Promise<SendResult> {
  const latency = new Histogram();
  const okPerChannel: Record<string, number> = {};
  let attempted = 0;
  let ok = 0;
  let failed = 0;
  let skipped = 0;
  let firstError = '';
  let inFlight = 0;
  const pending = new Set<Promise<void>>();

  const fire = (slot: Slot): Promise<void> => {
    attempted++;
    inFlight++;
    const req = request(args.target, slot, args.phase);
    const t0 = wallNow();
    const p = post(req.url, req.body, req.headers)
      .then((res) => {
        const good = res.status === 200 && !(args.target === 'api' && res.body.includes('"errors"'));
        if (good) {
          ok++;
          okPerChannel[slot.channel] = (okPerChannel[slot.channel] ?? 0) + 1;
          latency.record(wallNow() - t0);
        } else {
          failed++;
          firstError ||= `HTTP ${res.status}: ${res.body.slice(0, 240)}`;
        }
      })
      .catch((err) => {
        failed++;
        firstError ||= errorText(err);
      })
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
    return p;
  };

  aborted = false;
  const startedAt = wallNow();
  const duration = args.durationMs ?? 0;
  if (args.mode === 'once') {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(args.concurrency ?? 8, args.slots.length) }, async () => {
        while (next < args.slots.length) await fire(args.slots[next++]!);
      }),
    );
  } else if (args.mode === 'closed') {
    const end = startedAt + duration;
    await Promise.all(
      Array.from({ length: args.concurrency ?? 1 }, async (_, j) => {
        const slot = args.slots[j % args.slots.length]!;
        while (wallNow() < end) await fire(slot);
      }),
    );
  } else {
    const rate = args.rate ?? 1;
    const total = Math.max(1, Math.round((rate * duration) / 1000));
    const maxInFlight = args.maxInFlight ?? 512;
    for (let k = 0; k < total && !aborted; k++) {
      const due = startedAt + (k * 1000) / rate;
      const wait = due - wallNow();
      if (wait >= 1) await sleep(wait);
      if (aborted) break;
      if (inFlight >= maxInFlight) {
        skipped++;
        continue;
      }
      void fire(args.slots[k % args.slots.length]!);
    }
  }
  const endedAt = wallNow();
  await Promise.all([...pending]);
  return { attempted, ok, failed, skipped, firstError, okPerChannel, latency: latency.toJSON(), startedAt, endedAt };
}
