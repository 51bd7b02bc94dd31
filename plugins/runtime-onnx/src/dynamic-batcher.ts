import type { DynamicBatching, InferenceStats } from '@trellis/plugin-sdk';

/** One call waiting for its run. */
interface Waiting<T, R> {
  item: T;
  rows: number;
  queuedAt: number;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/** The calls of one shape gathered so far, and what will run them if they do not fill a batch. */
interface Gathering<T, R> {
  waiting: Waiting<T, R>[];
  rows: number;
  timer: NodeJS.Timeout | NodeJS.Immediate;
}

/**
 * Gathers concurrent calls into runs, as Triton's dynamic batcher does: calls of the same `key`
 * (same trailing dimensions and datatypes) wait together until they hold `maxBatchSize` rows or the
 * first has waited `maxQueueDelayMs`, then `execute` runs them as one batch and hands each call its
 * own result. Calls of different keys never share a run. A call that alone holds `maxBatchSize`
 * rows or more runs by itself at once.
 */
export class DynamicBatcher<T, R> {
  private readonly gathering = new Map<string, Gathering<T, R>>();
  private readonly counts: InferenceStats = { requests: 0, runs: 0, batchSizes: {}, queueDelayMs: 0 };

  constructor(
    private readonly config: DynamicBatching,
    private readonly execute: (items: T[]) => Promise<R[]>,
  ) {}

  /**
   * Queues `item` of `rows` rows under `key` (undefined: it runs alone, at once); resolves with its
   * own result once its batch has run.
   */
  submit(key: string | undefined, item: T, rows: number, signal?: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const onAbort = () => this.withdraw(key, call, signal?.reason);
      const settled = <V>(settle: (value: V) => void) => (value: V) => {
        signal?.removeEventListener('abort', onAbort);
        settle(value);
      };
      const call: Waiting<T, R> = { item, rows, queuedAt: performance.now(), resolve: settled(resolve), reject: settled(reject) };
      if (key === undefined || rows >= this.config.maxBatchSize) return this.run([call]);
      let group = this.gathering.get(key);
      if (group && group.rows + rows > this.config.maxBatchSize) {
        this.flush(key);
        group = undefined;
      }
      if (!group) {
        const flush = () => this.flush(key);
        group = { waiting: [], rows: 0, timer: this.config.maxQueueDelayMs > 0 ? setTimeout(flush, this.config.maxQueueDelayMs) : setImmediate(flush) };
        this.gathering.set(key, group);
      }
      group.waiting.push(call);
      group.rows += rows;
      signal?.addEventListener('abort', onAbort, { once: true });
      if (group.rows >= this.config.maxBatchSize) this.flush(key);
    });
  }

  /** What has run so far. */
  stats(): InferenceStats {
    return structuredClone(this.counts);
  }

  /** Rejects every call still waiting with `err`; calls already running finish. */
  close(err: Error): void {
    for (const key of [...this.gathering.keys()]) {
      const group = this.take(key);
      for (const call of group?.waiting ?? []) call.reject(err);
    }
  }

  private flush(key: string): void {
    const group = this.take(key);
    if (group && group.waiting.length > 0) this.run(group.waiting);
  }

  private take(key: string): Gathering<T, R> | undefined {
    const group = this.gathering.get(key);
    if (!group) return undefined;
    this.gathering.delete(key);
    clearTimeout(group.timer as NodeJS.Timeout);
    clearImmediate(group.timer as NodeJS.Immediate);
    return group;
  }

  /** A call aborted while it waits leaves its batch; once its batch runs, it gets its result. */
  private withdraw(key: string | undefined, call: Waiting<T, R>, reason: unknown): void {
    const group = key === undefined ? undefined : this.gathering.get(key);
    const at = group?.waiting.indexOf(call) ?? -1;
    if (key === undefined || !group || at < 0) return;
    group.waiting.splice(at, 1);
    group.rows -= call.rows;
    if (group.waiting.length === 0) this.take(key);
    call.reject(reason);
  }

  private run(calls: Waiting<T, R>[]): void {
    const started = performance.now();
    const rows = calls.reduce((sum, call) => sum + call.rows, 0);
    this.counts.requests += calls.length;
    this.counts.runs += 1;
    this.counts.batchSizes[rows] = (this.counts.batchSizes[rows] ?? 0) + 1;
    for (const call of calls) this.counts.queueDelayMs += started - call.queuedAt;
    this.execute(calls.map((call) => call.item)).then(
      (results) => calls.forEach((call, i) => call.resolve(results[i])),
      (err: unknown) => calls.forEach((call) => call.reject(err)),
    );
  }
}
