import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryRuntimeFixture } from '../../test/memory-runtime-fixture';
import type { DynamicBatching, LoadedModel, Tensor } from '../contracts';
import { loadPluginInWorker, type WorkerModelRuntime } from '../runtime-worker';
import { LINEAR_JSON_FORMAT } from '../testing/memory-model-runtime';

// The fixture's model: rows are independent, so the memory runtime batches along dim 0.
const scores = (row: readonly number[]) => [row[0] + 2 * row[2] + 0.5, -row[1] + 0.5 * row[2]];

const fixture = memoryRuntimeFixture('worker-model-');
let runtime: WorkerModelRuntime;

beforeEach(async () => {
  runtime = await loadPluginInWorker(fixture.pluginModule, { config: {} });
});

afterEach(async () => {
  jest.useRealTimers();
  await runtime.close();
});

const load = (batching: DynamicBatching) => runtime.load(fixture.modelPath, LINEAR_JSON_FORMAT, { batching });
const features = (rows: number[][], array: new (values: number[]) => ArrayLike<number> = Float32Array): Tensor => ({
  name: 'features',
  datatype: 'FP32',
  shape: [rows.length, rows[0].length],
  data: new array(rows.flat()) as Tensor['data'],
});
const rowsOf = (seed: number, count = 1) => Array.from({ length: count }, (_, row) => [seed, row + 1, seed - row]);

/** `answer` is the model's output for `rows`, as one tensor of their rows. */
function expectScores(answer: Tensor[], rows: number[][]): void {
  expect(answer.map((tensor) => ({ name: tensor.name, shape: [...tensor.shape], data: Array.from(tensor.data as Float32Array) }))).toEqual([
    { name: 'scores', shape: [rows.length, 2], data: rows.flatMap(scores) },
  ]);
}

const stats = async (model: LoadedModel) => model.stats?.();

describe('loadPluginInWorker: dynamic batching before the hop to the worker', () => {
  it('gathers the calls made while a run is in flight into the next run, and gives each call its own rows', async () => {
    const model = await load({ maxBatchSize: 8, maxQueueDelayMs: 0 });
    const calls = [rowsOf(1), rowsOf(2, 3), rowsOf(3), rowsOf(4, 2), rowsOf(5)];
    const answers = await Promise.all(calls.map((rows) => model.infer([features(rows)])));
    answers.forEach((answer, i) => expectScores(answer, calls[i]));
    // The first call crosses at once; the four queued behind it cross together (7 rows).
    expect(await stats(model)).toMatchObject({ requests: 5, runs: 2, batchSizes: { 1: 1, 7: 1 } });
  });

  it('leaves the callers their input arrays: only the stacked copy is moved to the worker', async () => {
    const model = await load({ maxBatchSize: 8, maxQueueDelayMs: 0 });
    const inputs = [1, 2, 3].map((seed) => features(rowsOf(seed)));
    await Promise.all(inputs.map((tensor) => model.infer([tensor])));
    expect(inputs.map((tensor) => Array.from(tensor.data as Float32Array))).toEqual([1, 2, 3].map((seed) => rowsOf(seed).flat()));
  });

  it('never stacks calls of other shapes, datatypes or arrays, and a call that does not fit fails alone', async () => {
    const model = await load({ maxBatchSize: 8, maxQueueDelayMs: 0 });
    const first = model.infer([features(rowsOf(0))]);
    const mixed = [
      model.infer([features(rowsOf(1))]),
      model.infer([features(rowsOf(2), Float64Array)]),
      model.infer([{ ...features(rowsOf(3)), data: rowsOf(3).flat() }]),
      model.infer([features([[1, 2, 3, 4]])]),
      model.infer([{ ...features(rowsOf(5)), datatype: 'FP64', data: new Float64Array(rowsOf(5).flat()) }]),
      model.infer([features(rowsOf(6))]),
    ];
    expectScores(await first, rowsOf(0));
    const [one, float64, plain, wide, fp64, six] = await Promise.allSettled(mixed);
    for (const [answer, seed] of [[one, 1], [float64, 2], [plain, 3], [six, 6]] as const) expectScores((answer as PromiseFulfilledResult<Tensor[]>).value, rowsOf(seed));
    expect(wide).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/shape \[-1, 3\], got \[1, 4\]/) }) });
    expect(fp64).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/FP32, got FP64/) }) });
    // Calls 1 and 6 share a run; each other one runs alone.
    expect(await stats(model)).toMatchObject({ requests: 7, runs: 6, batchSizes: { 1: 5, 2: 1 } });
  });

  it("runs a stacked run that fails again call by call, so one call's fault fails that call alone", async () => {
    // The memory runtime, refusing any call that holds a NaN: a fault of the values, not of the shape.
    const picky = join(fixture.dir, 'sdk', 'picky.plugin.js');
    await writeFile(
      picky,
      `const { definePlugin, z } = require('./index.js');
       const { MemoryModelRuntime } = require('./testing/memory-model-runtime.js');
       class Picky extends MemoryModelRuntime {
         async load(...args) {
           const model = await super.load(...args);
           const infer = model.infer.bind(model);
           model.infer = async (inputs, options) => { if (Array.from(inputs[0].data).some(Number.isNaN)) throw new RangeError('a value is NaN'); return infer(inputs, options); };
           return model;
         }
       }
       exports.default = definePlugin({ manifest: { kind: 'runtime', id: 'runtime-picky', apiVersion: 'v1' }, configSchema: z.object({}), create: () => new Picky() });`,
    );
    const pickyRuntime = await loadPluginInWorker(picky, { config: {} });
    try {
      const model = await pickyRuntime.load(fixture.modelPath, LINEAR_JSON_FORMAT, { batching: { maxBatchSize: 8, maxQueueDelayMs: 0 } });
      const first = model.infer([features(rowsOf(0))]);
      const [faulty, fine] = [model.infer([features([[1, Number.NaN, 3]])]), model.infer([features(rowsOf(2))])];
      expectScores(await first, rowsOf(0));
      await expect(faulty).rejects.toThrow(RangeError);
      expectScores(await fine, rowsOf(2));
      expect(await stats(model)).toMatchObject({ requests: 3, runs: 2, batchSizes: { 1: 1, 2: 1 } });
    } finally {
      await pickyRuntime.close();
    }
  });

  it('takes a call whose signal aborts while it waits out of its run, and rejects it with the reason', async () => {
    const model = await load({ maxBatchSize: 8, maxQueueDelayMs: 0 });
    const controller = new AbortController();
    const first = model.infer([features(rowsOf(0))]);
    const aborted = model.infer([features(rowsOf(1))], { signal: controller.signal });
    const kept = model.infer([features(rowsOf(2))]);
    controller.abort(new Error('the client went away'));
    await expect(aborted).rejects.toThrow('the client went away');
    expectScores(await first, rowsOf(0));
    expectScores(await kept, rowsOf(2));
    expect(await stats(model)).toMatchObject({ requests: 2, runs: 2, batchSizes: { 1: 2 } });
  });

  it('runs a full batch at once, without waiting out maxQueueDelayMs', async () => {
    const model = await load({ maxBatchSize: 3, maxQueueDelayMs: 600_000 });
    const calls = [1, 2, 3].map((seed) => rowsOf(seed));
    const answers = await Promise.all(calls.map((rows) => model.infer([features(rows)])));
    answers.forEach((answer, i) => expectScores(answer, calls[i]));
    expect(await stats(model)).toMatchObject({ requests: 3, runs: 1, batchSizes: { 3: 1 } });
  });

  it('runs a batch that is not full once its first call has waited maxQueueDelayMs', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'performance'] });
    const model = await load({ maxBatchSize: 8, maxQueueDelayMs: 50 });
    const answered = Promise.all([1, 2].map((seed) => model.infer([features(rowsOf(seed))])));
    await jest.advanceTimersByTimeAsync(49);
    expect(await stats(model)).toMatchObject({ runs: 0 });
    await jest.advanceTimersByTimeAsync(1);
    (await answered).forEach((answer, i) => expectScores(answer, rowsOf(i + 1)));
    expect(await stats(model)).toMatchObject({ requests: 2, runs: 1, batchSizes: { 2: 1 } });
  });

  it('rejects the calls still waiting when the model is unloaded', async () => {
    const model = await load({ maxBatchSize: 8, maxQueueDelayMs: 600_000 });
    const waiting = expect(model.infer([features(rowsOf(1))])).rejects.toThrow(/unloaded/);
    await model.unload();
    await waiting;
    await expect(model.infer([features(rowsOf(1))])).rejects.toThrow(/unloaded/);
  });

  it('refuses batching options that make no sense, naming the field', async () => {
    await expect(load({ maxBatchSize: 0, maxQueueDelayMs: 0 })).rejects.toThrow(/batching\.maxBatchSize/);
    await expect(load({ maxBatchSize: 4, maxQueueDelayMs: -1 })).rejects.toThrow(/batching\.maxQueueDelayMs/);
  });
});
