// A latency histogram that merges across processes: log buckets 1 % wide above 1 ms,
// 10 µs wide below. Percentiles are accurate to about 1 %.
const SUB_MS = 100; // buckets below 1 ms, 10 µs each
const GROWTH = Math.log(1.01);

function bucketOf(ms: number): number {
  if (ms < 1) return Math.max(0, Math.floor(ms * SUB_MS));
  return SUB_MS + Math.floor(Math.log(ms) / GROWTH);
}

function valueOf(bucket: number): number {
  if (bucket < SUB_MS) return (bucket + 0.5) / SUB_MS;
  return Math.exp((bucket - SUB_MS + 0.5) * GROWTH);
}

export interface HistogramData {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** [bucket, count] pairs */
  buckets: [number, number][];
}

export class Histogram {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  private readonly counts = new Map<number, number>();

  record(ms: number): void {
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    const b = bucketOf(ms);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
  }

  merge(data: HistogramData): this {
    if (!data.count) return this;
    this.count += data.count;
    this.sum += data.sum;
    this.min = Math.min(this.min, data.min);
    this.max = Math.max(this.max, data.max);
    for (const [b, n] of data.buckets) this.counts.set(b, (this.counts.get(b) ?? 0) + n);
    return this;
  }

  /** The p-th percentile (0–100) of what was recorded; NaN when empty. */
  percentile(p: number): number {
    if (!this.count) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, valueOf(b)));
    }
    return this.max;
  }

  /**
   * The p-th percentile over `expected` samples of which only `count` arrived: missing ones
   * count as infinitely late, so the result is Infinity when more than (100 - p) % are missing.
   */
  percentileOf(p: number, expected: number): number {
    if (expected <= this.count) return this.percentile(p);
    const rank = Math.ceil((p / 100) * expected);
    if (rank > this.count) return Number.POSITIVE_INFINITY;
    return this.percentile((100 * rank) / this.count);
  }

  get mean(): number {
    return this.count ? this.sum / this.count : Number.NaN;
  }

  toJSON(): HistogramData {
    return { count: this.count, sum: this.sum, min: this.min, max: this.max, buckets: [...this.counts] };
  }

  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}
