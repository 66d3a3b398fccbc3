// What a client worker records about deliveries: per phase (a tag in the message content),
// how many arrived, their send → delivery latency, which subscriptions have seen one, and
// arrivals per 100 ms of wall time (for throughput over any window).
import { Histogram, type HistogramData } from '../lib/stats.js';
import { wallNow } from '../lib/util.js';

/**
 * Every message the benchmark sends carries `b|<phase>|<send time in ms>|` in its content, so
 * a frame is recognized and timed without JSON.parse (the client's own work stays small, and
 * the same for the API and for the relay).
 */
export const MARKER = Buffer.from('"b|');
const PIPE = 0x7c;

export function content(phase: string): string {
  return `b|${phase}|${wallNow().toFixed(3)}| hello from the benchmark, lorem ipsum dolor sit amet`;
}

export interface PhaseReport {
  count: number;
  hist: HistogramData;
  covered: number;
  /** [100 ms bucket of wall time, deliveries] */
  buckets: [number, number][];
}

class Phase {
  count = 0;
  readonly hist = new Histogram();
  covered: Uint8Array;
  coveredCount = 0;
  /** the latest send time among each subscription's first delivery: all were live by then */
  maxFirstSent = 0;
  readonly buckets = new Map<number, number>();
  constructor(size: number) {
    this.covered = new Uint8Array(Math.max(1, size));
  }
}

export class Deliveries {
  private readonly phases = new Map<string, Phase>();
  size = 0;

  reset(): void {
    this.phases.clear();
  }

  private phase(name: string): Phase {
    let p = this.phases.get(name);
    if (!p) {
      p = new Phase(this.size);
      this.phases.set(name, p);
    }
    return p;
  }

  /** A frame for subscription `sub` that contains the marker at `at`. */
  record(sub: number, frame: Buffer, at: number): void {
    const now = wallNow();
    const phaseStart = at + MARKER.length;
    const phaseEnd = frame.indexOf(PIPE, phaseStart);
    if (phaseEnd < 0) return;
    const tsEnd = frame.indexOf(PIPE, phaseEnd + 1);
    if (tsEnd < 0) return;
    const name = frame.toString('latin1', phaseStart, phaseEnd);
    const sentAt = Number(frame.toString('latin1', phaseEnd + 1, tsEnd));
    const p = this.phase(name);
    p.count++;
    if (Number.isFinite(sentAt)) p.hist.record(Math.max(0, now - sentAt));
    if (sub >= p.covered.length) {
      const grown = new Uint8Array(Math.max(sub + 1, p.covered.length * 2));
      grown.set(p.covered);
      p.covered = grown;
    }
    if (!p.covered[sub]) {
      p.covered[sub] = 1;
      p.coveredCount++;
      // a subscription's deliveries arrive in send order: its first is its earliest
      if (sentAt > p.maxFirstSent) p.maxFirstSent = sentAt;
    }
    const bucket = Math.floor(now / 100);
    p.buckets.set(bucket, (p.buckets.get(bucket) ?? 0) + 1);
  }

  covered(name: string): number {
    return this.phases.get(name)?.coveredCount ?? 0;
  }

  maxFirstSent(name: string): number {
    return this.phases.get(name)?.maxFirstSent ?? 0;
  }

  count(name: string): number {
    return this.phases.get(name)?.count ?? 0;
  }

  report(names: string[]): Record<string, PhaseReport> {
    const out: Record<string, PhaseReport> = {};
    for (const name of names) {
      const p = this.phases.get(name);
      out[name] = p
        ? { count: p.count, hist: p.hist.toJSON(), covered: p.coveredCount, buckets: [...p.buckets] }
        : { count: 0, hist: new Histogram().toJSON(), covered: 0, buckets: [] };
    }
    return out;
  }
}
