// The rhythm of the registries whose entries expire unless renewed (presence connections,
// channel-activity holds): an entry lives half the TTL and the tick that renews this
// instance's entries and sweeps lapsed ones runs every quarter, so one late tick never expires
// a live entry, and a crashed instance's entries are swept within the TTL.

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  /** registry writes under way, so a graceful stop can wait for them */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly ttlMs: number,
    private readonly tick: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** how long an entry lives from its last renewal */
  get lifetime(): number {
    return Math.ceil(this.ttlMs / 2);
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.tick().catch(this.onError);
    }, Math.max(50, Math.floor(this.ttlMs / 4)));
    this.timer.unref();
  }

  /** No more ticks; resolves once the work under way has settled. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const settle = () => this.inFlight.delete(work);
    work.then(settle, settle);
    return work;
  }
}
