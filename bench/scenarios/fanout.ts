// Scenarios "fanout" and "saturation": one busy channel, subscribers spread over 2 instances
// (API) or 2 relay processes (yardstick), the same users, workers and load for both.
import type { Bench } from '../lib/bench.js';
import { fmtInt, fmtMs, fmtPct, fmtRatio } from '../lib/util.js';
import {
  type Target,
  type WindowResult,
  apiTarget,
  connectAudience,
  measureWindow,
  relayTarget,
  settle,
  slotsFor,
  targetName,
  waitLive,
} from './delivery.js';

interface Saturation {
  /** highest deliveries/s seen in a step */
  best: number;
  /** highest rate (msg/s) that kept up, 0 if none did */
  keptUpTo: number;
  laggedAt: number;
  steps: string[];
}

interface Outcome {
  fixed?: WindowResult;
  saturation?: Saturation;
  connectMs: number;
  live: number;
  liveMs: number;
  subscribers: number;
  error?: string;
}

export async function fanout(bench: Bench, opts: { fixed: boolean; saturation: boolean }): Promise<void> {
  const k = bench.knobs;
  await bench.ensureInstances(2);
  await bench.ensureRelays(2);
  const users = await bench.ensureUsers(k.fanoutSubscribers + k.fanoutSenders);
  const subscribers = users.slice(0, k.fanoutSubscribers);
  const senders = users.slice(users.length - k.fanoutSenders);
  const [channel] = await bench.ensureChannels(['general']);

  const outcomes = new Map<string, Outcome>();
  for (const target of [relayTarget(bench, 2), apiTarget(bench, 2)]) {
    const name = targetName(target);
    try {
      outcomes.set(name, await runTarget(bench, target, subscribers, senders, channel!, opts));
    } catch (err) {
      outcomes.set(name, { connectMs: 0, live: 0, liveMs: 0, subscribers: 0, error: (err as Error).message });
      await bench.disconnectAll().catch(() => {});
    }
  }
  const relay = outcomes.get('relay')!;
  const api = outcomes.get('API')!;
  const subs = fmtInt(k.fanoutSubscribers);
  for (const [name, o] of outcomes) {
    if (o.error) bench.report.note(`fan-out, ${name}: failed: ${o.error}`);
    else
      bench.report.note(
        `fan-out, ${name}: ${o.subscribers} connections opened in ${fmtMs(o.connectMs)}, ${o.live} live after ${fmtMs(o.liveMs)}` +
          (o.fixed
            ? `; CPU ${o.fixed.cpu.toFixed(2)} s/s over its 2 processes (clients ${o.fixed.clientCpu.toFixed(2)}); send p50 ${fmtMs(o.fixed.sendLatency.percentile(50))}, p99 ${fmtMs(o.fixed.sendLatency.percentile(99))}; a one-row INSERT's commit meanwhile p50 ${fmtMs(o.fixed.commitLatency.percentile(50))}, p99 ${fmtMs(o.fixed.commitLatency.percentile(99))}, max ${fmtMs(o.fixed.commitLatency.max)}; ${o.fixed.failed} failed sends${o.fixed.firstError ? ` (${o.fixed.firstError.slice(0, 120)})` : ''}, ${o.fixed.skipped} skipped, socket errors ${o.fixed.socketErrors}${o.fixed.socketFirstError ? ` (${o.fixed.socketFirstError.slice(0, 120)})` : ''}, unexpected closes ${o.fixed.unexpectedCloses}`
            : ''),
      );
    if (o.saturation) bench.report.note(`saturation, ${name}: ${o.saturation.steps.join('; ')}`);
  }

  if (opts.fixed) {
    const scenario = `Fan-out: ${subs} subscribers of one channel on 2 instances, ${k.fanoutRate} msg/s for ${k.fanoutSeconds} s`;
    const pct = (o: Outcome) => (o.fixed ? `${fmtPct(Math.min(o.fixed.delivered, o.fixed.expected), o.fixed.expected)} of ${fmtInt(o.fixed.expected)}` : (o.error ?? 'n/a'));
    const allDelivered = (o: Outcome) => Boolean(o.fixed && o.fixed.expected > 0 && o.fixed.delivered >= o.fixed.expected);
    bench.report.add({
      scenario: `${scenario}: delivered by the end of the window + ${k.drainMs / 1000} s`,
      yardstick: pct(relay),
      api: pct(api),
      ratio: '—',
      target: 'every message',
      met: allDelivered(api),
    });
    const lat = (o: Outcome) =>
      o.fixed ? `p50 ${fmtMs(o.fixed.latency.percentile(50))}, p99 ${fmtMs(o.fixed.latency.percentile(99))}` : 'n/a';
    const p99 = (o: Outcome) => (o.fixed ? o.fixed.latency.percentileOf(99, o.fixed.expected) : Number.NaN);
    const ratio = p99(api) / p99(relay);
    bench.report.add({
      scenario: `${scenario}: send → delivery (of those delivered)`,
      yardstick: lat(relay),
      api: lat(api) + (api.fixed && !allDelivered(api) ? ` (p99 counting the undelivered: ${Number.isFinite(p99(api)) ? fmtMs(p99(api)) : '∞'})` : ''),
      ratio: Number.isFinite(ratio) ? `p99 ${fmtRatio(ratio)}` : 'p99 ∞',
      target: 'p99 ≤ 2× relay',
      met: Number.isFinite(ratio) && ratio <= 2 && allDelivered(api),
    });
  }
  if (opts.saturation) {
    const sat = (o: Outcome) =>
      o.saturation
        ? `${o.saturation.laggedAt ? '' : '≥ '}${fmtInt(o.saturation.best)}/s (kept up to ${o.saturation.keptUpTo ? `${o.saturation.keptUpTo} msg/s` : 'none'}${o.saturation.laggedAt ? `, lags at ${o.saturation.laggedAt} msg/s` : ', never lagged: BENCH_SAT_MAX reached'})`
        : (o.error ?? 'n/a');
    const ratio = (api.saturation?.best ?? Number.NaN) / (relay.saturation?.best ?? Number.NaN);
    bench.report.add({
      scenario: `Saturation: deliveries/s sustained, ${subs} subscribers on 2 instances, rate doubled from ${k.satStart} msg/s every ${k.satStepSeconds} s until delivery lags (p99 > ${fmtMs(k.lagMs)} or < 99 % delivered)`,
      yardstick: sat(relay),
      api: sat(api),
      ratio: fmtRatio(ratio),
      target: '≥ 0.5×',
      met: Number.isFinite(ratio) && ratio >= 0.5,
    });
  }
}

async function runTarget(
  bench: Bench,
  target: Target,
  subscribers: Bench['users'],
  senders: Bench['users'],
  channel: NonNullable<ReturnType<Bench['channels']['get']>>,
  opts: { fixed: boolean; saturation: boolean },
): Promise<Outcome> {
  const k = bench.knobs;
  const name = targetName(target);
  console.error(`bench: fan-out, ${name}: connecting ${subscribers.length} subscribers`);
  const audience = await connectAudience(bench, target, subscribers, [channel]);
  if (audience.failed) bench.report.note(`fan-out, ${name}: ${audience.failed} connections failed (${audience.firstError})`);
  const live = await waitLive(bench, audience, senders, k.liveTimeoutMs);
  const outcome: Outcome = { connectMs: audience.connectMs, live: live.live, liveMs: live.ms, subscribers: audience.total };
  // the sends rotate over the senders and the instances
  const slots = slotsFor(target, [channel], senders, senders.length * target.sendUrls.length);
  try {
    // a short unmeasured run at the same rate first: JIT, pools and buffers warm for both targets
    await measureWindow(bench, audience, slots, { phase: 'warm', rate: k.fanoutRate, durationMs: k.quick ? 1000 : 2000, drainMs: 1000 });
    await settle(bench, 'warm');
    if (opts.fixed) {
      console.error(`bench: fan-out, ${name}: ${k.fanoutRate} msg/s for ${k.fanoutSeconds} s`);
      outcome.fixed = await measureWindow(bench, audience, slots, {
        phase: 'fixed',
        rate: k.fanoutRate,
        durationMs: k.fanoutSeconds * 1000,
        drainMs: k.drainMs,
      });
      await settle(bench, 'fixed');
    }
    if (opts.saturation) {
      const sat: Saturation = { best: 0, keptUpTo: 0, laggedAt: 0, steps: [] };
      for (let rate = k.satStart, step = 0; rate <= k.satMax; rate *= 2, step++) {
        console.error(`bench: saturation, ${name}: ${rate} msg/s`);
        const w = await measureWindow(bench, audience, slots, {
          phase: `sat${step}`,
          rate,
          durationMs: k.satStepSeconds * 1000,
          drainMs: Math.min(k.drainMs, 2000),
        });
        await settle(bench, `sat${step}`);
        sat.best = Math.max(sat.best, w.throughput);
        const p99 = w.latency.percentileOf(99, w.expected);
        const lagging = w.skipped > 0 || w.expected === 0 || w.delivered < 0.99 * w.expected || !(p99 <= k.lagMs);
        sat.steps.push(
          `${rate} msg/s: ${fmtInt(w.throughput)} deliveries/s, ${fmtPct(Math.min(w.delivered, w.expected), w.expected)} delivered, p99 ${Number.isFinite(p99) ? fmtMs(p99) : '∞'}, CPU s/s server ${w.cpu.toFixed(2)} clients ${w.clientCpu.toFixed(2)}${w.skipped ? `, ${w.skipped} sends skipped (sender backlog)` : ''}`,
        );
        if (lagging) {
          sat.laggedAt = rate;
          break;
        }
        sat.keptUpTo = rate;
      }
      outcome.saturation = sat;
    }
  } finally {
    await bench.disconnectAll();
  }
  return outcome;
}
