// Async iterators for subscriptions, fed by PubSub callbacks. A stream can be cut: when the
// subscriber loses access it ends (complete) at once, with nothing more delivered.

export class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private done = false;
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  push(value: T): void {
    if (this.done) return;
    if (this.waiting) {
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

  /** Ends the stream: pending events are dropped, the consumer sees completion. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.buffer.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    for (const fn of this.cleanups.splice(0)) void Promise.resolve(fn()).catch(() => {});
  }

  get ended(): boolean {
    return this.done;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
