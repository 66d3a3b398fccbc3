// Scenario "channels": many channels, every one sending: 2,000 connections (distinct users)
// over 200 channels, on one instance and on two (relay: one process and two).
import type { Bench } from '../lib/bench.js';
import { fmtInt, fmtMs, fmtPct, fmtRatio } from '../lib/util.js';
import { type Target, type WindowResult, apiTarget, connectAudience, measureWindow, relayTarget, settle, slotsFor, targetName, waitLive } from './delivery.js';

export async function channels(bench: Bench): Promise<void> {
  const k = bench.knobs;
  const connections = k.channels * k.channelSubscribers;
  await bench.ensureInstances(2);
  await bench.ensureRelays(2);
  const users = await bench.ensureUsers(connections + k.channelSenders);
  const subscribers = users.slice(0, connections);
  const senders = users.slice(users.length - k.channelSenders);
  const chans = await bench.ensureChannels(Array.from({ length: k.channels }, (_, i) => `ch${i}`));
  const rate = k.channels * k.channelRate;

  for (const n of [1, 2]) {
    const results = new Map<string, WindowResult | string>();
    for (const target of [relayTarget(bench, n), apiTarget(bench, n)]) {
      const name = targetName(target);
      try {
        results.set(name, await run(bench, target, subscribers, senders, chans, rate));
      } catch (err) {
        results.set(name, (err as Error).message);
        await bench.disconnectAll().catch(() => {});
      }
    }
    const relay = results.get('relay')!;
    const api = results.get('API')!;
    const scenario = `${fmtInt(connections)} connections over ${k.channels} channels, every channel sending (${rate} msg/s in all, ${k.channelSeconds} s), ${n} instance${n > 1 ? 's' : ''}`;
    const show = (w: WindowResult | string) =>
      typeof w === 'string'
        ? `failed: ${w.slice(0, 120)}`
        : `${fmtPct(Math.min(w.delivered, w.expected), w.expected)} delivered, p50 ${fmtMs(w.latency.percentile(50))}, p99 ${fmtMs(w.latency.percentile(99))}`;
    const p99 = (w: WindowResult | string) => (typeof w === 'string' ? Number.NaN : w.latency.percentileOf(99, w.expected));
    const ratio = p99(api) / p99(relay);
    const all = typeof api !== 'string' && api.expected > 0 && api.delivered >= api.expected;
    bench.report.add({
      scenario,
      yardstick: show(relay),
      api: show(api),
      ratio: Number.isFinite(ratio) ? `p99 ${fmtRatio(ratio)}` : 'p99 ∞',
      target: 'every message, p99 ≤ 2× relay',
      met: all && Number.isFinite(ratio) && ratio <= 2,
    });
    for (const [name, w] of results) {
      if (typeof w !== 'string')
        bench.report.note(
          `channels, ${n} instance(s), ${name}: server CPU ${w.cpu.toFixed(2)} s/s, ${fmtInt(w.throughput)} deliveries/s, ${w.failed} failed sends${w.firstError ? ` (${w.firstError.slice(0, 120)})` : ''}, ${w.skipped} skipped`,
        );
    }
  }
}

async function run(bench: Bench, target: Target, subscribers: Bench['users'], senders: Bench['users'], chans: Awaited<ReturnType<Bench['ensureChannels']>>, rate: number) {
  const k = bench.knobs;
  const name = targetName(target);
  console.error(`bench: channels, ${name} on ${target.wsUrls.length}: connecting ${subscribers.length}`);
  const audience = await connectAudience(bench, target, subscribers, chans);
  try {
    const live = await waitLive(bench, audience, senders, k.liveTimeoutMs);
    bench.report.note(
      `channels, ${name} on ${target.wsUrls.length}: ${audience.total} connections in ${fmtMs(audience.connectMs)}${audience.failed ? ` (${audience.failed} failed: ${audience.firstError})` : ''}, ${live.live} live after ${fmtMs(live.ms)}`,
    );
    const w = await measureWindow(bench, audience, slotsFor(target, chans, senders), {
      phase: 'chan',
      rate,
      durationMs: k.channelSeconds * 1000,
      drainMs: k.drainMs,
    });
    await settle(bench, 'chan', 500, 10_000);
    return w;
  } finally {
    await bench.disconnectAll();
  }
}
