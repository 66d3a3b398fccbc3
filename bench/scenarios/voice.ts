// Scenario "voice": the media node (media/src/main.ts, its own process) forwarding Opus-sized
// RTP (BENCH_VOICE_PAYLOAD bytes, 50 packets/s per speaker) between werift peers held by
// separate voice worker processes, in rooms of 2, 10 and 50. Per room size it reports how many
// forwarded streams (one speaker heard by one listener) the node carried, the node's CPU for
// them and so the streams per core, with the loss and the p99 latency from send to receipt
// (the send time is in each payload: both ends are on this machine's clock).
//
// The yardstick is a published figure, not a same-run measurement: mediasoup's documentation
// sizes one worker (one core) at roughly 500 consumers. It anchors the order of magnitude of a
// native SFU; the target is 200 forwarded streams per core under 1 % loss and 30 ms p99.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Bench } from '../lib/bench.js';
import { ROOT, cpuProfileFlags, cpuSeconds, forkTs, freePort, nodeFlags, spawnChild, waitFor200 } from '../lib/procs.js';
import { Histogram } from '../lib/stats.js';
import { fmtInt, fmtMs, fmtRatio, sleep, withTimeout } from '../lib/util.js';
import { Worker } from '../lib/workers.js';
import type { SilentStreamInfo, VoiceJoinArgs, VoiceWindowResult } from '../workers/voice.js';

const ANCHOR_PER_CORE = 500;
const TARGET_PER_CORE = 200;
const PACKETS_PER_S = 50;

async function startVoiceWorker(name: string): Promise<Worker> {
  const child = forkTs(name, path.join(ROOT, 'bench/workers/voice.ts'));
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

interface Case {
  size: number;
  rooms: number;
  speakers: number;
}

export function voiceCases(sizes: number[], streams: number, maxSpeakers: number): Case[] {
  return sizes.map((size) => {
    const speakers = Math.min(size, maxSpeakers);
    return { size, speakers, rooms: Math.max(1, Math.round(streams / (speakers * (size - 1)))) };
  });
}

export async function voice(bench: Bench): Promise<void> {
  const k = bench.knobs;
  const secret = randomBytes(24).toString('base64url');
  const port = await freePort();
  const node = spawnChild('media-node', process.execPath, [...cpuProfileFlags(), ...nodeFlags('BENCH_MEDIA_FLAGS'), '--import', 'tsx', path.join(ROOT, 'media/src/main.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      MEDIA_HOST: '127.0.0.1',
      MEDIA_PORT: String(port),
      MEDIA_SECRET: secret,
      MEDIA_ICE_TIMEOUT_MS: '60000',
      MEDIA_MAX_PARTICIPANTS_PER_ROOM: '1000',
      LOG_LEVEL: 'warn',
      REDIS_URL: '',
    },
  });
  bench.extraChildren.push(node);
  await waitFor200(`http://127.0.0.1:${port}/health`, 30_000, node);
  const controlUrl = `ws://127.0.0.1:${port}/control`;
  const workers = await Promise.all(Array.from({ length: k.workers }, (_, i) => startVoiceWorker(`voice-${i + 1}`)));
  bench.extraChildren.push(...workers.map((w) => w.child));

  try {
    for (const c of voiceCases(k.voiceSizes, k.voiceStreams, k.voiceSpeakers)) {
      const streams = c.rooms * c.speakers * (c.size - 1);
      const t0 = Date.now();
      // neighbours in a room sit in different processes, so every stream crosses processes
      const perWorker: VoiceJoinArgs['participants'][] = workers.map(() => []);
      for (let r = 0; r < c.rooms; r++)
        for (let j = 0; j < c.size; j++)
          perWorker[j % workers.length]!.push({ roomId: `voice-${c.size}-${r}`, participantId: `v${c.size}-${r}-${j}`, speaks: j < c.speakers });
      await Promise.all(
        workers.map((w, i) =>
          w.call('join', { controlUrl, secret, participants: perWorker[i]!, payloadBytes: k.voicePayload, concurrency: 4 } satisfies VoiceJoinArgs, 180_000),
        ),
      );
      const joinS = (Date.now() - t0) / 1000;
      console.error(`bench: voice: ${c.rooms} room(s) of ${c.size}, ${c.speakers} speaking: ${c.rooms * c.size} peers joined in ${joinS.toFixed(1)} s`);
      // what the connections cost with nobody speaking (ICE consent checks, RTCP timers)
      const idleCpu0 = cpuSeconds(node.pid);
      await sleep(2000);
      const idleCores = (cpuSeconds(node.pid) - idleCpu0) / 2;
      await Promise.all(workers.map((w) => w.call('startSpeaking', {})));
      await sleep(1000); // past the start of every stream

      const from = Date.now() + 200;
      const to = from + k.voiceSeconds * 1000;
      const measuring = Promise.all(workers.map((w) => w.call<VoiceWindowResult>('measure', { from, to, drainMs: 500 }, 60_000)));
      await sleep(from - Date.now());
      const cpu0 = cpuSeconds(node.pid);
      const workersCpu0 = workers.map((w) => cpuSeconds(w.child.pid));
      await sleep(to - Date.now());
      const cores = (cpuSeconds(node.pid) - cpu0) / k.voiceSeconds;
      const workerCores = workers.map((w, i) => (cpuSeconds(w.child.pid) - workersCpu0[i]!) / k.voiceSeconds);
      const results = await measuring;

      const sent = new Map<string, number>();
      const received = new Map<string, number>();
      const latency = new Histogram();
      let connected = 0;
      let retried = 0;
      for (const r of results) {
        for (const [id, n] of Object.entries(r.sent)) sent.set(id, (sent.get(id) ?? 0) + n);
        for (const [id, n] of Object.entries(r.received)) received.set(id, (received.get(id) ?? 0) + n);
        latency.merge(r.latency);
        connected += r.connected;
        retried += r.retried;
      }
      let expected = 0;
      let sentTotal = 0;
      for (const n of sent.values()) {
        expected += n * (c.size - 1);
        sentTotal += n;
      }
      let got = 0;
      for (const n of received.values()) got += n;
      const loss = expected ? Math.max(0, 1 - got / expected) : 1;
      const p99 = latency.percentileOf(99, expected);
      // What the node carried, not what was asked of it: the speakers (werift peers in worker
      // processes on the same cores) may send below 50 packets/s when the workers are saturated,
      // and a stream sending at a tenth of the rate costs the node about a tenth. A forwarded
      // stream is 50 packets/s arriving at one listener; streams/core = those per node core.
      const sendRate = sentTotal / (c.rooms * c.speakers * PACKETS_PER_S * k.voiceSeconds);
      const carried = got / (PACKETS_PER_S * k.voiceSeconds);
      const perCore = cores > 0 ? carried / cores : Number.POSITIVE_INFINITY;
      const usPerPacket = got > 0 ? (cores * k.voiceSeconds * 1e6) / got : Number.POSITIVE_INFINITY;
      const ok = loss < 0.01 && p99 < 30 && sendRate > 0.95;
      bench.report.add({
        scenario: `voice: rooms of ${c.size} (${c.rooms} room${c.rooms > 1 ? 's' : ''}, ${c.speakers} speaking in each, ${streams} forwarded streams asked, ${k.voiceSeconds} s)`,
        yardstick: `~${ANCHOR_PER_CORE} consumers/core (mediasoup's published sizing; an anchor, not run here)`,
        api: `${fmtInt(perCore)} streams/core (${carried.toFixed(1)} streams carried at ${cores.toFixed(2)} node cores, ${usPerPacket.toFixed(0)} µs/forwarded packet; speakers at ${(sendRate * 100).toFixed(0)} % of 50 packets/s; loss ${(loss * 100).toFixed(2)} %, p50 ${fmtMs(latency.percentile(50))}, p99 ${fmtMs(p99)})`,
        ratio: fmtRatio(perCore / ANCHOR_PER_CORE),
        target: `≥ ${TARGET_PER_CORE} streams/core, loss < 1 %, p99 < 30 ms, speakers at full rate`,
        met: ok && perCore >= TARGET_PER_CORE,
      });
      if (sendRate < 0.95)
        bench.report.note(
          `voice, rooms of ${c.size}: the speakers sent ${(sendRate * 100).toFixed(0)} % of the packets asked (${fmtInt(sentTotal)} of ${fmtInt(c.rooms * c.speakers * PACKETS_PER_S * k.voiceSeconds)}): the worker processes, not the node, were the limit; latency and loss then include their event-loop lag`,
        );
      if (retried) bench.report.note(`voice, rooms of ${c.size}: ${retried} join(s) were tried again after the peer's connection failed (werift's DTLS client failing a handshake its server side completed)`);
      if (connected < c.rooms * c.size) bench.report.note(`voice, rooms of ${c.size}: only ${connected} of ${c.rooms * c.size} peers were connected at the end`);
      bench.report.note(
        `voice, rooms of ${c.size}: ${c.rooms * c.size} peers in ${workers.length} worker processes joined in ${joinS.toFixed(1)} s; connected and silent they cost the node ${idleCores.toFixed(2)} cores; while speaking, the worker processes (their peers' own WebRTC stacks) used ${workerCores.map((used) => used.toFixed(2)).join(' + ')} cores beside the node; ${fmtInt(got)} of ${fmtInt(expected)} packets sent arrived; streams/core = packets that arrived ÷ (50/s × window) ÷ the node's CPU (user + system) over the window, a linear extrapolation from ${cores.toFixed(2)} cores`,
      );
      await noteSilentStreams(bench, c.size, workers, perWorker, results);
      await Promise.all(workers.map((w) => w.call('leaveAll', {}, 120_000)));
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await node.stop();
  }
}

/**
 * A stream (one speaker heard by one listener) that carried nothing in the window is not packet
 * loss but a track that never started: the note says what the listener's client and the node
 * said of it at the end, so that a rare case leaves a trace in the run that met it.
 */
async function noteSilentStreams(bench: Bench, size: number, workers: Worker[], perWorker: VoiceJoinArgs['participants'][], results: VoiceWindowResult[]) {
  const speakersByRoom = new Map<string, string[]>();
  for (const list of perWorker)
    for (const p of list) {
      if (!p.speaks) continue;
      const speakers = speakersByRoom.get(p.roomId);
      if (speakers) speakers.push(p.participantId);
      else speakersByRoom.set(p.roomId, [p.participantId]);
    }
  const infos: SilentStreamInfo[] = [];
  let silent = 0;
  for (const [i, list] of perWorker.entries()) {
    const streams: { listener: string; sender: string; roomId: string }[] = [];
    for (const p of list)
      for (const sender of speakersByRoom.get(p.roomId) ?? [])
        if (sender !== p.participantId && !results[i]!.pairs[`${p.participantId}<-${sender}`]) streams.push({ listener: p.participantId, sender, roomId: p.roomId });
    silent += streams.length;
    if (streams.length) infos.push(...(await workers[i]!.call<SilentStreamInfo[]>('silentStreams', { streams: streams.slice(0, 10) }, 30_000).catch(() => [])));
  }
  if (!silent) return;
  const described = infos.map(
    (x) =>
      `${x.listener} <- ${x.sender} (client: ${x.client ? `${x.client.connection}, ${x.client.signaling}, ${x.client.tracks} tracks heard` : 'gone'}; node: ${
        x.node ? `${x.node.state}, ${x.node.negotiating ? 'an offer unanswered' : 'no offer out'}, pending [${x.node.pendingForwards.join(', ')}], ${x.node.sent.packets} packets sent to it` : 'gone'
      })`,
  );
  bench.report.note(`voice, rooms of ${size}: ${silent} stream(s) carried nothing in the window: ${described.join('; ')}`);
}
