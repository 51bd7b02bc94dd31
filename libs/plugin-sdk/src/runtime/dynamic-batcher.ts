import type { DynamicBatching, InferenceStats } from '../contracts';

/** One call waiting for its run, or in it. */
interface Waiting<T, R> {
  item: T;
  rows: number;
  queuedAt: number;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/** Calls of one key gathered into one run: the newest of its key takes more calls until it runs. */
interface Gathering<T, R> {
  key: string;
  waiting: Waiting<T, R>[];
  rows: number;
  /** It may run: full, or its first call has waited `maxQueueDelayMs` (at once where that is 0). */
  due: boolean;
  timer?: NodeJS.Timeout;
}

/**
 * Gathers concurrent calls into runs, as Triton's dynamic batcher does. Calls of the same `key`
 * (same names, datatypes and trailing dimensions) join one gathering; it is due once it holds
 * `maxBatchSize` rows, a call of its key does not fit in it, or its first call has waited
 * `maxQueueDelayMs` (at once for 0), and it runs
 * as soon as fewer than `maxInFlight` runs are under way. Until it runs it keeps taking calls, so
 * calls that arrive while earlier ones run share the next run. `execute` runs the items of one
 * gathering and gives each its result (a value, or a promise that may reject for that call alone).
 * Calls of different keys never share a run; a call without a key, or of `maxBatchSize` rows or
 * more, runs alone at once.
 */
export class DynamicBatcher<T, R> {
  private readonly gatherings: Gathering<T, R>[] = [];
  private readonly counts: InferenceStats = { requests: 0, runs: 0, batchSizes: {}, queueDelayMs: 0 };
  private inFlight = 0;

  /**
   * @param config how many rows a run takes at most and how long a call waits for others.
   * @param execute runs one gathering's items, one result (or promise of one) per item, in order.
   * @param maxInFlight runs of this batcher under way at once (1: calls gather while one runs).
   */
  constructor(
    private readonly config: DynamicBatching,
    private readonly execute: (items: T[]) => Promise<readonly (R | Promise<R>)[]>,
    private readonly maxInFlight = 1,
  ) {}

  /**
   * Queues `item` of `rows` rows under `key` (undefined: it runs alone, at once); resolves with its
   * own result once its run has answered. A call whose `signal` aborts rejects with the signal's
   * reason at once: while it waits it leaves its gathering; once running, its result is dropped.
   */
  submit(key: string | undefined, item: T, rows: number, signal?: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const call: Waiting<T, R> = { item, rows, queuedAt: performance.now(), resolve, reject };
      if (signal) {
        const onAbort = () => this.withdraw(call, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        call.resolve = (result) => (signal.removeEventListener('abort', onAbort), resolve(result));
        call.reject = (err) => (signal.removeEventListener('abort', onAbort), reject(err));
      }
      if (key === undefined || rows >= this.config.maxBatchSize) return this.run([call], false);
      let gathering = this.gatherings.findLast((g) => g.key === key);
      if (gathering && gathering.rows + rows > this.config.maxBatchSize) {
        // A gathering a call of its key cannot join has what it will get: it runs next.
        gathering.due = true;
        gathering = undefined;
      }
      if (!gathering) {
        gathering = { key, waiting: [], rows: 0, due: this.config.maxQueueDelayMs === 0 };
        if (!gathering.due) gathering.timer = setTimeout(this.dueAfterDelay(gathering), this.config.maxQueueDelayMs);
        this.gatherings.push(gathering);
      }
      gathering.waiting.push(call);
      gathering.rows += rows;
      if (gathering.rows >= this.config.maxBatchSize) gathering.due = true;
      this.dispatch();
    });
  }

  /** What has run so far. */
  stats(): InferenceStats {
    return structuredClone(this.counts);
  }

  /** Rejects every call still waiting with `err`; calls already running finish. */
  close(err: Error): void {
    for (const gathering of this.gatherings.splice(0)) {
      clearTimeout(gathering.timer);
      for (const call of gathering.waiting) call.reject(err);
    }
  }

  private dueAfterDelay(gathering: Gathering<T, R>): () => void {
    return () => {
      gathering.due = true;
      this.dispatch();
    };
  }

  /** Runs the oldest due gatherings while fewer than `maxInFlight` runs are under way. */
  private dispatch(): void {
    while (this.inFlight < this.maxInFlight) {
      const at = this.gatherings.findIndex((g) => g.due);
      if (at < 0) return;
      const [gathering] = this.gatherings.splice(at, 1);
      clearTimeout(gathering.timer);
      this.run(gathering.waiting, true);
    }
  }

  /** A call aborted while it waits leaves its gathering (and the gathering, once empty, goes). */
  private withdraw(call: Waiting<T, R>, reason: unknown): void {
    const gathering = this.gatherings.find((g) => g.waiting.includes(call));
    if (gathering) {
      gathering.waiting.splice(gathering.waiting.indexOf(call), 1);
      gathering.rows -= call.rows;
      if (gathering.waiting.length === 0) {
        clearTimeout(gathering.timer);
        this.gatherings.splice(this.gatherings.indexOf(gathering), 1);
      }
    }
    call.reject(reason);
  }

  private run(calls: Waiting<T, R>[], counted: boolean): void {
    const started = performance.now();
    const rows = calls.reduce((sum, call) => sum + call.rows, 0);
    this.counts.requests += calls.length;
    this.counts.runs += 1;
    this.counts.batchSizes[rows] = (this.counts.batchSizes[rows] ?? 0) + 1;
    for (const call of calls) this.counts.queueDelayMs += started - call.queuedAt;
    if (counted) this.inFlight += 1;
    void this.execute(calls.map((call) => call.item))
      .then(
        (results) => Promise.allSettled(calls.map((call, i) => Promise.resolve(results[i]).then(call.resolve, call.reject))),
        (err: unknown) => calls.forEach((call) => call.reject(err)),
      )
      .finally(() => {
        if (!counted) return;
        this.inFlight -= 1;
        this.dispatch();
      });
  }
}
