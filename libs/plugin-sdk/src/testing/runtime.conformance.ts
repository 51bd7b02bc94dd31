import type { ModelRuntime, Tensor } from '../contracts';
import { loadPluginInWorker } from '../runtime-worker';

/** Makes a runtime instance in the test's thread for one test; called before every test of the suite. */
export type RuntimeFactory = () => Promise<ModelRuntime> | ModelRuntime;

/** What the runtime suite runs: a model file, an example with its expected outputs, and the plugin module for the worker. */
export interface RuntimeConformanceFixtures {
  /** A model artifact the runtime loads: a file or directory on local disk, and its format. */
  model: { path: string; format: string };
  /**
   * One batch for the model and what it must give back: every input of the model's signature, and
   * the outputs to compare with (names, datatypes, shapes, and values within `tolerance`).
   */
  example: { inputs: readonly Tensor[]; outputs: readonly Tensor[] };
  /** The largest difference allowed between a number of an output and the expected one; 1e-5 by default. */
  tolerance?: number;
  /**
   * The plugin's module, as the host loads it in a worker thread: the path of its built JavaScript
   * (a worker cannot run TypeScript) whose default export is the plugin, and an instance config.
   */
  worker: { modulePath: string; config: unknown };
}

/**
 * The runtime contract's conformance suite (v1). A runtime plugin's spec calls it with a factory of
 * instances and the fixtures (given at once, or made by a function run before the suite's tests);
 * it uses jest's globals. Every case runs twice: on instances the factory makes in the test's
 * thread, and on instances made from the plugin's module in a worker thread with
 * `loadPluginInWorker`, as serving runs models.
 *
 * @example
 * describeRuntimeConformance('runtime-onnx', () => plugin.create(createTestContext(), {}), {
 *   model: { path: join(__dirname, '../test/logistic.onnx'), format: 'onnx' },
 *   example: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array([1, 2]) }],
 *              outputs: [{ name: 'p', datatype: 'FP32', shape: [1, 1], data: new Float32Array([0.73]) }] },
 *   worker: { modulePath: join(__dirname, '../dist/index.js'), config: {} },
 * });
 */
export function describeRuntimeConformance(name: string, factory: RuntimeFactory, fixtures: RuntimeConformanceFixtures | (() => Promise<RuntimeConformanceFixtures> | RuntimeConformanceFixtures)): void {
  describe(`runtime conformance (v1): ${name}`, () => {
    let given: RuntimeConformanceFixtures;

    beforeAll(async () => {
      given = typeof fixtures === 'function' ? await fixtures() : fixtures;
    });

    describe('in the test thread', () => runtimeCases(factory, () => given));
    describe('in a worker thread, loaded by module path', () => runtimeCases(() => loadPluginInWorker(given.worker.modulePath, { config: given.worker.config }), () => given));
  });
}

function runtimeCases(factory: RuntimeFactory, fixtures: () => RuntimeConformanceFixtures): void {
  let runtime: ModelRuntime;
  let f: RuntimeConformanceFixtures;

  beforeEach(async () => {
    f = fixtures();
    runtime = await factory();
  });

  afterEach(async () => {
    await runtime.close?.();
  });

  const load = () => runtime.load(f.model.path, f.model.format);

  it('declares the format of the model', () => {
    expect(runtime.formats).toContain(f.model.format);
  });

  it('describes the inputs and outputs of the model', async () => {
    const signature = (await load()).describe();
    expect(signature.inputs.map((t) => [t.name, t.datatype]).sort()).toEqual(f.example.inputs.map((t) => [t.name, t.datatype]).sort());
    for (const output of f.example.outputs) expect(signature.outputs.map((t) => [t.name, t.datatype])).toContainEqual([output.name, output.datatype]);
    for (const spec of [...signature.inputs, ...signature.outputs]) for (const dim of spec.shape) expect(dim === -1 || (Number.isInteger(dim) && dim >= 0)).toBe(true);
  });

  it('infers the example, giving the expected outputs', async () => {
    const outputs = await (await load()).infer(f.example.inputs);
    expectOutputs(outputs, f.example.outputs, f.tolerance);
  });

  it('infers a batch of two rows where the batch dimension is free, giving each row its outputs', async () => {
    const model = await load();
    const { inputs, outputs } = model.describe();
    if (![...inputs, ...outputs].every((spec) => spec.shape[0] === -1)) return;
    const doubled = await model.infer(f.example.inputs.map(twice));
    expectOutputs(doubled, f.example.outputs.map(twice), f.tolerance);
  });

  it('where it declares batchesAlongFirstDimension, gives each of several concurrent calls batched together its own outputs', async () => {
    if (!runtime.batchesAlongFirstDimension) return;
    const model = await runtime.load(f.model.path, f.model.format, { batching: { maxBatchSize: 8, maxQueueDelayMs: 0 } });
    const { inputs, outputs } = model.describe();
    if (![...inputs, ...outputs].every((spec) => spec.shape[0] === -1)) return;
    const calls = [f.example, { inputs: f.example.inputs.map(twice), outputs: f.example.outputs.map(twice) }, f.example, f.example];
    const answers = await Promise.all(calls.map((call) => model.infer(call.inputs)));
    answers.forEach((answer, i) => expectOutputs(answer, calls[i].outputs, f.tolerance));
  });

  it('refuses a format it does not declare with a TypeError naming the format', async () => {
    const loading = runtime.load(f.model.path, 'no-such-format');
    await expect(loading).rejects.toThrow(TypeError);
    await expect(loading).rejects.toThrow(/no-such-format/);
  });

  it('rejects a model path that does not exist, naming it', async () => {
    const missing = `${f.model.path}.missing`;
    await expect(runtime.load(missing, f.model.format)).rejects.toThrow(missing);
  });

  it('refuses with a TypeError an input of another name, datatype or shape, or none', async () => {
    const model = await load();
    const [first, ...rest] = f.example.inputs;
    const wrongDatatype = first.datatype === 'FP64' ? 'INT32' : 'FP64';
    const wrong: Tensor[][] = [
      [{ ...first, name: `${first.name}-unknown` }, ...rest],
      [{ ...first, datatype: wrongDatatype }, ...rest],
      [{ ...first, shape: [...first.shape, 2] }, ...rest],
      [],
    ];
    for (const inputs of wrong) await expect(model.infer(inputs)).rejects.toThrow(TypeError);
  });

  it('rejects inference once the model is unloaded', async () => {
    const model = await load();
    await model.unload();
    await expect(model.infer(f.example.inputs)).rejects.toThrow();
  });

  it('keeps two loaded models apart: unloading one leaves the other working', async () => {
    const [a, b] = [await load(), await load()];
    await a.unload();
    expectOutputs(await b.infer(f.example.inputs), f.example.outputs, f.tolerance);
  });

  it('rejects inference when its signal has already aborted', async () => {
    const model = await load();
    const controller = new AbortController();
    controller.abort(new Error('the request went away'));
    await expect(model.infer(f.example.inputs, { signal: controller.signal })).rejects.toThrow();
  });
}

/** `outputs` hold each expected tensor: same name, datatype and shape, values within `tolerance`. */
function expectOutputs(outputs: readonly Tensor[], expected: readonly Tensor[], tolerance = 1e-5): void {
  for (const want of expected) {
    const got = outputs.find((t) => t.name === want.name);
    expect(got && { name: got.name, datatype: got.datatype, shape: [...got.shape] }).toEqual({ name: want.name, datatype: want.datatype, shape: [...want.shape] });
    const values = Array.from(got?.data as ArrayLike<unknown>);
    const wanted = Array.from(want.data as ArrayLike<unknown>);
    expect(values).toHaveLength(wanted.length);
    wanted.forEach((value, i) => {
      if (typeof value === 'number' && typeof values[i] === 'number') {
        if (Math.abs((values[i] as number) - value) > tolerance) expect({ index: i, value: values[i] }).toEqual({ index: i, value });
      } else {
        expect(values[i]).toEqual(value);
      }
    });
  }
}

/** The tensor with its rows twice over (the batch dimension doubled). */
function twice(tensor: Tensor): Tensor {
  const values = Array.from(tensor.data as ArrayLike<unknown>);
  const both = [...values, ...values];
  // A typed array stays one of its own kind (Float32Array stays Float32Array).
  const data = ArrayBuffer.isView(tensor.data) ? Object.assign(new (tensor.data.constructor as new (length: number) => object)(both.length), both) : both;
  return { ...tensor, shape: [tensor.shape[0] * 2, ...tensor.shape.slice(1)], data: data as Tensor['data'] };
}
