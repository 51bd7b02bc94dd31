import type { InferenceStats, LoadedModel, ModelSignature, Tensor } from '@trellis/plugin-sdk';

/**
 * A revision's model instances (its `replicas`, as Triton's instance_group count) seen as one
 * model: each call goes to the instance with the fewest calls in flight, ties taken in turn from
 * the one after the instance picked last, so that N instances run N calls at once.
 */
export class ModelInstances implements LoadedModel {
  readonly stats?: () => Promise<InferenceStats>;
  private readonly inFlight: number[];
  private next = 0;

  constructor(private readonly instances: readonly LoadedModel[]) {
    if (instances.length === 0) throw new Error('a revision runs at least one model instance');
    this.inFlight = instances.map(() => 0);
    if (instances.every((instance) => instance.stats)) this.stats = () => sumStats(instances);
  }

  describe(): ModelSignature {
    return this.instances[0].describe();
  }

  async infer(inputs: readonly Tensor[], options?: { signal?: AbortSignal }): Promise<Tensor[]> {
    const picked = this.pick();
    this.inFlight[picked] += 1;
    try {
      return await this.instances[picked].infer(inputs, options);
    } finally {
      this.inFlight[picked] -= 1;
    }
  }

  /** Unloads every instance; rejects with the first failure once all have been tried. */
  async unload(): Promise<void> {
    const failed = (await Promise.allSettled(this.instances.map((instance) => instance.unload()))).find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private pick(): number {
    let picked = this.next;
    for (let step = 1; step < this.instances.length; step++) {
      const candidate = (this.next + step) % this.instances.length;
      if (this.inFlight[candidate] < this.inFlight[picked]) picked = candidate;
    }
    this.next = (picked + 1) % this.instances.length;
    return picked;
  }
}

/** One model for a revision's instances: the instance itself when there is one (no wrapper on the common path). */
export function asOneModel(instances: readonly LoadedModel[]): LoadedModel {
  return instances.length === 1 ? instances[0] : new ModelInstances(instances);
}

/** What all the instances ran, added up. */
async function sumStats(instances: readonly LoadedModel[]): Promise<InferenceStats> {
  const total: InferenceStats = { requests: 0, runs: 0, batchSizes: {}, queueDelayMs: 0 };
  for (const stats of await Promise.all(instances.map((instance) => instance.stats!()))) {
    total.requests += stats.requests;
    total.runs += stats.runs;
    total.queueDelayMs += stats.queueDelayMs;
    for (const [rows, runs] of Object.entries(stats.batchSizes)) total.batchSizes[Number(rows)] = (total.batchSizes[Number(rows)] ?? 0) + runs;
  }
  return total;
}
