// Async iterators for subscriptions, fed by PubSub callbacks. A stream can be cut: when the
// subscriber loses access it ends (complete) at once, with nothing more delivered.

export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private done = false;
  /** finishing: no new events, but the queued ones are still delivered before completion */
  private finishing = false;
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  /** set by drain(): events go straight to the consumer, with no promise per event (two
   *  fields, not an object holding both: every live subscription has them) */
  private sinkValue: ((value: T) => void) | null = null;
  private sinkEnd: (() => void) | null = null;

  push(value: T): void {
    if (this.done || this.finishing) return;
    if (this.sinkValue) {
      this.sinkValue(value);
    } else if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
    } else {
      this.buffer.push(value);
    }
  }

  /** Runs fn when the stream ends, whoever ends it. */
  onEnd(fn: () => Promise<void> | void): void {
    if (this.done) void fn();
    else this.cleanups.push(fn);
  }

  /** Completes the stream after the events already queued have been delivered. */
  finish(): void {
    if (this.done || this.finishing) return;
    this.finishing = true;
    if (this.buffer.length === 0) this.end();
  }

  /**
   * Push mode instead of async iteration: every queued and future event goes to onValue
   * synchronously, in order, then onEnd once. For the delivery path, where a promise per
   * event per subscriber is the cost that adds up.
   */
  drain(onValue: (value: T) => void, onEnd: () => void): void {
    if (this.sinkValue || this.waiting) throw new Error('EventStream has a consumer already');
    if (this.done) return onEnd();
    this.sinkValue = onValue;
    this.sinkEnd = onEnd;
    for (const value of this.buffer.splice(0)) onValue(value);
    if (this.finishing) {
      this.finishing = false;
      this.end();
    }
  }

  /** Ends the stream: pending events are dropped (unless it is finishing), the consumer sees completion. */
  end(): void {
    if (this.done) return;
    if (this.finishing && this.buffer.length > 0) return;
    this.done = true;
    this.buffer.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    const sinkEnd = this.sinkEnd;
    this.sinkValue = null;
    this.sinkEnd = null;
    sinkEnd?.();
    for (const fn of this.cleanups.splice(0)) void Promise.resolve(fn()).catch(() => {});
  }

  get ended(): boolean {
    return this.done;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length) {
      const value = this.buffer.shift() as T;
      if (this.finishing && this.buffer.length === 0) {
        this.finishing = false;
        this.end();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.finishing = false; // the consumer left: nothing is owed anymore
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
