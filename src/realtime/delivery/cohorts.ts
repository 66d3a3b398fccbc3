// Cohorts: subscribers on this instance that share an operation document and variables
// (and, when the document selects a viewer-dependent field, the viewer). An event is executed
// and serialized once per cohort; every member's socket gets the same bytes.
//
// Events are keyed by identity: the PubSub hands every listener of a topic the same parsed
// payload object (src/pubsub), so the first member to deliver an event executes it and the
// others find its bytes here. A replayed event (read from the database for one subscriber)
// is an object of its own and is executed for that subscriber alone, as it should be.
import type { ExecutionResult } from 'graphql';
import type { Actor } from '../../services/actor.js';
import { type PreparedOperation, canonicalJson } from './operations.js';

export interface Cohort {
  readonly key: string;
  readonly operation: PreparedOperation;
  readonly variables: Readonly<Record<string, unknown>>;
  /** whom a viewer-dependent cohort executes for; null: shared, executed as nobody */
  readonly viewer: Actor | null;
  members: number;
}

/** The serialized `payload` of a `next` frame: bytes, or bytes to come. */
export type Payload = Buffer | Promise<Buffer>;

export type RunEvent = (cohort: Cohort, event: unknown) => ExecutionResult | Promise<ExecutionResult>;

export class Cohorts {
  private readonly cohorts = new Map<string, Cohort>();
  private readonly payloads = new WeakMap<object, Map<Cohort, Payload>>();
  /** executions since start: a test proves sharing with it, operators read it as a metric */
  executions = 0;

  constructor(
    private readonly run: RunEvent,
    private readonly serialize: (result: ExecutionResult) => Buffer,
  ) {}

  get size(): number {
    return this.cohorts.size;
  }

  join(operation: PreparedOperation, variables: Readonly<Record<string, unknown>>, viewer: Actor): Cohort {
    const shared = !operation.viewerDependent;
    const key = `${operation.key}\u0000${canonicalJson(variables)}${shared ? '' : `\u0000${viewer.userId ?? ''}`}`;
    let cohort = this.cohorts.get(key);
    if (!cohort) {
      cohort = { key, operation, variables, viewer: shared ? null : viewer, members: 0 };
      this.cohorts.set(key, cohort);
    }
    cohort.members += 1;
    return cohort;
  }

  leave(cohort: Cohort): void {
    cohort.members -= 1;
    if (cohort.members === 0 && this.cohorts.get(cohort.key) === cohort) this.cohorts.delete(cohort.key);
  }

  /** The payload of `event` for the cohort, executed by whichever member asks first. */
  payloadFor(cohort: Cohort, event: unknown): Payload {
    if (typeof event !== 'object' || event === null) return this.execute(cohort, event);
    let byCohort = this.payloads.get(event);
    if (!byCohort) {
      byCohort = new Map();
      this.payloads.set(event, byCohort);
    }
    let payload = byCohort.get(cohort);
    if (!payload) {
      payload = this.execute(cohort, event);
      byCohort.set(cohort, payload);
    }
    return payload;
  }

  private execute(cohort: Cohort, event: unknown): Payload {
    this.executions += 1;
    const result = this.run(cohort, event);
    return result instanceof Promise ? result.then(this.serialize) : this.serialize(result);
  }
}
