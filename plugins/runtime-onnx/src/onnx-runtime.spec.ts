import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamicBatching, LoadedModel, Tensor } from '@trellis/plugin-sdk';
import { expectValues, FEATURES, featureRows, mlp, writeModel } from '../test/models';
import { OnnxModelRuntime } from './onnx-runtime';

let dir: string;
let mlpPath: string;
let rowSumPath: string;
let fixedPath: string;
let runtime: OnnxModelRuntime;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runtime-onnx-'));
  [mlpPath, rowSumPath, fixedPath] = await Promise.all([writeModel('mlp', join(dir, 'mlp.onnx')), writeModel('row-sum', join(dir, 'row-sum.onnx')), writeModel('fixed-mlp', join(dir, 'fixed.onnx'))]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  runtime = new OnnxModelRuntime({ intraOpNumThreads: 1, batching: { maxBatchSize: 64, maxQueueDelayMs: 0 } });
});

afterEach(async () => {
  jest.useRealTimers();
  await runtime.close();
});

const x = (rows: number[][]): Tensor => ({ name: 'x', datatype: 'FP32', shape: [rows.length, rows[0].length], data: new Float32Array(rows.flat()) });
const load = (path: string, batching?: DynamicBatching) => runtime.load(path, 'onnx', batching && { batching });
const calls = (count: number, rows = 1) => Array.from({ length: count }, (_, seed) => featureRows(rows, seed));

/** Infers every call at once (in one tick, so they are queued together) and checks each got the MLP's outputs for its own rows. */
async function inferAll(model: LoadedModel, batches: number[][][]): Promise<void> {
  const answers = await Promise.all(batches.map((rows) => model.infer([x(rows)])));
  answers.forEach(([y], i) => {
    expect(y.shape).toEqual([batches[i].length, 3]);
    expectValues(y.data, mlp(batches[i]));
  });
}

describe('OnnxModelRuntime: the session cache', () => {
  it('shares one session between loads of the same file, from any path, until the last is unloaded', async () => {
    const copy = join(dir, 'mlp-copy.onnx');
    await copyFile(mlpPath, copy);
    const [a, b] = [await load(mlpPath), await load(copy)];
    expect(runtime.openSessions).toBe(1);
    const other = await load(rowSumPath);
    expect(runtime.openSessions).toBe(2);

    await a.unload();
    expect(runtime.openSessions).toBe(2);
    await inferAll(b, calls(1));
    await b.unload();
    expect(runtime.openSessions).toBe(1);
    await other.unload();
    expect(runtime.openSessions).toBe(0);

    await inferAll(await load(copy), calls(1));
    expect(runtime.openSessions).toBe(1);
  });

  it('refuses a file that is not an ONNX model with a TypeError naming it, and caches nothing', async () => {
    const notOnnx = join(dir, 'not-a-model.onnx');
    await copyFile(join(__dirname, '..', 'package.json'), notOnnx);
    await expect(load(notOnnx)).rejects.toThrow(TypeError);
    await expect(load(notOnnx)).rejects.toThrow(notOnnx);
    expect(runtime.openSessions).toBe(0);
  });
});

describe('OnnxModelRuntime: dynamic batching', () => {
  it('runs calls queued together as one batch, up to maxBatchSize rows, and gives each call its rows', async () => {
    const model = await load(mlpPath, { maxBatchSize: 4, maxQueueDelayMs: 0 });
    await inferAll(model, calls(5));
    expect(await model.stats()).toMatchObject({ requests: 5, runs: 2, batchSizes: { 4: 1, 1: 1 } });
  });

  it('runs a full batch at once, without waiting out maxQueueDelayMs', async () => {
    const model = await load(mlpPath, { maxBatchSize: 3, maxQueueDelayMs: 600_000 });
    await inferAll(model, calls(3));
    expect(await model.stats()).toMatchObject({ runs: 1, batchSizes: { 3: 1 } });
  });

  it('runs a batch that is not full once its first call has waited maxQueueDelayMs', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'performance'] });
    const model = await load(mlpPath, { maxBatchSize: 8, maxQueueDelayMs: 50 });
    const answered = inferAll(model, calls(2));
    await jest.advanceTimersByTimeAsync(49);
    expect(await model.stats()).toMatchObject({ runs: 0 });
    await jest.advanceTimersByTimeAsync(1);
    await answered;
    expect(await model.stats()).toMatchObject({ requests: 2, runs: 1, batchSizes: { 2: 1 } });
  });

  it('counts rows, not calls: calls of several rows share a batch while their rows fit, and a call over maxBatchSize runs alone', async () => {
    const model = await load(mlpPath, { maxBatchSize: 4, maxQueueDelayMs: 0 });
    await inferAll(model, [featureRows(2, 1), featureRows(2, 2), featureRows(2, 3)]);
    expect(await model.stats()).toMatchObject({ runs: 2, batchSizes: { 4: 1, 2: 1 } });
    await inferAll(model, [featureRows(5, 4)]);
    expect(await model.stats()).toMatchObject({ runs: 3, batchSizes: { 4: 1, 2: 1, 5: 1 } });
  });

  it('runs each call alone with maxBatchSize 1, and where the model fixes its batch dimension', async () => {
    const off = await load(mlpPath, { maxBatchSize: 1, maxQueueDelayMs: 0 });
    await inferAll(off, calls(3));
    expect(await off.stats()).toMatchObject({ requests: 3, runs: 3, batchSizes: { 1: 3 } });

    const fixed = await load(fixedPath, { maxBatchSize: 8, maxQueueDelayMs: 0 });
    expect(fixed.describe().inputs[0].shape).toEqual([1, FEATURES]);
    await inferAll(fixed, calls(3));
    expect(await fixed.stats()).toMatchObject({ runs: 3, batchSizes: { 1: 3 } });
  });

  it('never runs calls of different trailing dimensions together', async () => {
    const model = await load(rowSumPath, { maxBatchSize: 8, maxQueueDelayMs: 0 });
    const rows = [[[1, 2, 3]], [[1, 2, 3, 4, 5]], [[10, 20, 30]], [[-1, -2, -3, -4, -5]]];
    const answers = await Promise.all(rows.map((r) => model.infer([x(r)])));
    expect(answers.map(([y]) => [y.shape, Array.from(y.data as Float32Array)])).toEqual([
      [[1, 1], [6]],
      [[1, 1], [15]],
      [[1, 1], [60]],
      [[1, 1], [-15]],
    ]);
    // The first call runs at once; the three queued behind it run as a batch of each width.
    expect(await model.stats()).toMatchObject({ requests: 4, runs: 3, batchSizes: { 1: 2, 2: 1 } });
  });

  it('takes a call whose signal aborts while it waits out of its batch, and rejects it with the reason', async () => {
    const model = await load(mlpPath, { maxBatchSize: 2, maxQueueDelayMs: 600_000 });
    const controller = new AbortController();
    const aborted = model.infer([x(featureRows(1))], { signal: controller.signal });
    controller.abort(new Error('the client went away'));
    await expect(aborted).rejects.toThrow('the client went away');
    await inferAll(model, calls(2));
    expect(await model.stats()).toMatchObject({ requests: 2, runs: 1, batchSizes: { 2: 1 } });
  });

  it('rejects the calls still waiting when the model is unloaded', async () => {
    const model = await load(mlpPath, { maxBatchSize: 8, maxQueueDelayMs: 600_000 });
    const waiting = model.infer([x(featureRows(1))]);
    await model.unload();
    await expect(waiting).rejects.toThrow(/unloaded/);
  });

  it('refuses batching options that make no sense, naming the field', async () => {
    await expect(load(mlpPath, { maxBatchSize: 0, maxQueueDelayMs: 0 })).rejects.toThrow(/maxBatchSize/);
    await expect(load(mlpPath, { maxBatchSize: 4, maxQueueDelayMs: -1 })).rejects.toThrow(/maxQueueDelayMs/);
  });
});

describe('OnnxModelRuntime: inputs checked against the model', () => {
  const valid = () => x(featureRows(2));
  const cases: [string, () => Tensor[], RegExp][] = [
    ['an unknown name', () => [{ ...valid(), name: 'z' }], /input "z" is not an input of the model, which takes \["x"\]/],
    ['no inputs', () => [], /input "x" is missing/],
    ['the same input twice', () => [valid(), valid()], /input "x" is given twice/],
    ['another datatype', () => [{ ...valid(), datatype: 'FP64', data: new Float64Array(2 * FEATURES) }], /input "x" is FP32, got FP64/],
    ['another rank', () => [{ ...valid(), shape: [2, FEATURES, 1] }], /input "x" has shape \[-1, 10\] \(-1: any size\), got \[2, 10, 1\]/],
    ['another fixed dimension', () => [{ ...valid(), shape: [4, 5] }], /input "x" has shape \[-1, 10\].*got \[4, 5\]/],
    ['a negative dimension', () => [{ ...valid(), shape: [-2, FEATURES] }], /input "x" has shape.*got \[-2, 10\]/],
    ['fewer values than the shape holds', () => [{ ...valid(), shape: [3, FEATURES] }], /input "x" of shape \[3, 10\] holds 30 values, got 20/],
    ['a value that is not a number', () => [{ ...valid(), data: [...featureRows(2).flat().slice(1), 'a'] }], /input "x" is FP32: value 19 must be a number, got string/],
  ];

  it.each(cases)('refuses %s with a TypeError naming the input', async (_, inputs, message) => {
    const model = await load(mlpPath);
    const inferring = model.infer(inputs());
    await expect(inferring).rejects.toThrow(TypeError);
    await expect(inferring).rejects.toThrow(message);
  });

  it('takes plain arrays of numbers as well as typed arrays', async () => {
    const model = await load(mlpPath);
    const rows = featureRows(2);
    const [y] = await model.infer([{ name: 'x', datatype: 'FP32', shape: [2, FEATURES], data: rows.flat() }]);
    expectValues(y.data, mlp(rows));
  });
});
