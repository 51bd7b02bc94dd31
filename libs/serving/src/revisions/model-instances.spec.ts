import type { InferenceStats, LoadedModel, Tensor } from '@trellis/plugin-sdk';
import { asOneModel, ModelInstances } from './model-instances';

const input: Tensor = { name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] };

/** A model instance whose calls stay in flight until the spec answers them; it answers with its own name. */
class HeldInstance implements LoadedModel {
  readonly waiting: Array<() => void> = [];
  unloaded = false;

  constructor(
    readonly name: string,
    private readonly counted: InferenceStats = { requests: 0, runs: 0, batchSizes: {}, queueDelayMs: 0 },
    private readonly unloadFails = false,
  ) {}

  describe() {
    return { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 1] }], outputs: [{ name: this.name, datatype: 'FP32' as const, shape: [-1, 1] }] };
  }

  infer(): Promise<Tensor[]> {
    return new Promise((resolve) => this.waiting.push(() => resolve([{ name: this.name, datatype: 'FP32', shape: [1, 1], data: [0] }])));
  }

  /** Answers the oldest call in flight. */
  answer(): void {
    this.waiting.shift()!();
  }

  async unload(): Promise<void> {
    this.unloaded = true;
    if (this.unloadFails) throw new Error(`${this.name} would not unload`);
  }

  async stats(): Promise<InferenceStats> {
    return this.counted;
  }
}

const answeredBy = async (call: Promise<Tensor[]>) => (await call)[0].name;

describe('a revision\'s model instances', () => {
  it('sends each call to the instance with the fewest calls in flight', async () => {
    const [a, b, c] = [new HeldInstance('a'), new HeldInstance('b'), new HeldInstance('c')];
    const model = new ModelInstances([a, b, c]);
    const first = [model.infer([input]), model.infer([input]), model.infer([input])];
    expect([a.waiting.length, b.waiting.length, c.waiting.length]).toEqual([1, 1, 1]);

    b.answer();
    await expect(answeredBy(first[1])).resolves.toBe('b');
    const fourth = model.infer([input]);
    expect([a.waiting.length, b.waiting.length, c.waiting.length]).toEqual([1, 1, 1]);

    a.answer();
    c.answer();
    b.answer();
    await expect(Promise.all([answeredBy(first[0]), answeredBy(first[2]), answeredBy(fourth)])).resolves.toEqual(['a', 'c', 'b']);
  });

  it('takes idle instances in turn, so calls one after another are spread too', async () => {
    const instances = [new HeldInstance('a'), new HeldInstance('b'), new HeldInstance('c')];
    const model = new ModelInstances(instances);
    const answered: string[] = [];
    for (let call = 0; call < 6; call++) {
      const pending = model.infer([input]);
      instances.find((instance) => instance.waiting.length > 0)!.answer();
      answered.push(await answeredBy(pending));
    }
    expect(answered).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('adds up what every instance ran', async () => {
    const model = new ModelInstances([
      new HeldInstance('a', { requests: 3, runs: 2, batchSizes: { 1: 1, 2: 1 }, queueDelayMs: 1.5 }),
      new HeldInstance('b', { requests: 4, runs: 1, batchSizes: { 4: 1 }, queueDelayMs: 2 }),
      new HeldInstance('c', { requests: 1, runs: 1, batchSizes: { 1: 1 }, queueDelayMs: 0 }),
    ]);
    await expect(model.stats!()).resolves.toEqual({ requests: 8, runs: 4, batchSizes: { 1: 2, 2: 1, 4: 1 }, queueDelayMs: 3.5 });
  });

  it('keeps no stats when an instance keeps none', () => {
    const without: LoadedModel = { describe: () => new HeldInstance('b').describe(), infer: async () => [], unload: async () => undefined };
    expect(new ModelInstances([new HeldInstance('a'), without]).stats).toBeUndefined();
  });

  it('unloads every instance, even past one that fails, and says which failed', async () => {
    const instances = [new HeldInstance('a'), new HeldInstance('b', undefined, true), new HeldInstance('c')];
    await expect(new ModelInstances(instances).unload()).rejects.toThrow('b would not unload');
    expect(instances.map((instance) => instance.unloaded)).toEqual([true, true, true]);
  });

  it('is the model itself when the revision runs one instance', () => {
    const only = new HeldInstance('a');
    expect(asOneModel([only])).toBe(only);
    expect(asOneModel([only, new HeldInstance('b')])).toBeInstanceOf(ModelInstances);
  });
});
