import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { checkBatching, type DynamicBatching, DynamicBatcher, type InferenceStats, type LoadedModel, type LoadOptions, type ModelRuntime, type ModelSignature, stackRows, type Tensor, type TensorSpec } from '@trellis/plugin-sdk';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { checkInputs, datatypeOf, fromOrtData, type OrtData, type OrtInput, ortType, sizeOf } from './tensors';

/** The format `OnnxModelRuntime` loads. */
export const ONNX_FORMAT = 'onnx';

/** How an `OnnxModelRuntime` makes its sessions and batches by default. */
export interface OnnxRuntimeOptions {
  /** Threads one session run uses (onnxruntime's intra-op pool). */
  intraOpNumThreads: number;
  /** Batching of a model loaded without its own. */
  batching: DynamicBatching;
}

/** One onnxruntime session, shared by every load of the same bytes until the last is unloaded. */
interface CachedSession {
  session: Promise<{ session: InferenceSession; signature: ModelSignature }>;
  loads: number;
}

/**
 * Runs ONNX models with onnxruntime-node on the CPU. A session run is synchronous in the thread
 * that calls it, so serving loads this runtime in a worker thread of its own (the runtime contract),
 * which keeps the host's event loop free; this class makes no threads itself.
 *
 * Sessions are cached by the sha256 of the model file: loading the same model again, from any path,
 * shares the session until every load of it is unloaded. Each loaded model batches its calls with
 * a `DynamicBatcher` configured by its `LoadOptions` (or the runtime's default); in a worker, the
 * host batches before the hop instead (`batchesAlongFirstDimension`) and loads it with batching off.
 */
export class OnnxModelRuntime implements ModelRuntime {
  readonly formats = [ONNX_FORMAT];
  // Each row of a run's outputs comes from its row of the inputs, and outputs are fresh copies.
  readonly batchesAlongFirstDimension = true;
  private readonly sessions = new Map<string, CachedSession>();

  constructor(private readonly options: OnnxRuntimeOptions) {}

  /** How many sessions are open (one per distinct model file loaded and not yet unloaded by all). */
  get openSessions(): number {
    return this.sessions.size;
  }

  async load(path: string, format: string, options: LoadOptions = {}): Promise<OnnxLoadedModel> {
    if (format !== ONNX_FORMAT) throw new TypeError(`runtime-onnx loads ${ONNX_FORMAT} models, not ${JSON.stringify(format)}`);
    const batching = checkBatching(options.batching ?? this.options.batching);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new Error(`cannot read the model file ${path}: ${(err as Error).message}`, { cause: err });
    }
    const checksum = createHash('sha256').update(bytes).digest('hex');
    let cached = this.sessions.get(checksum);
    if (!cached) {
      cached = { session: this.open(bytes, path), loads: 0 };
      this.sessions.set(checksum, cached);
      const opening = cached;
      cached.session.catch(() => this.sessions.get(checksum) === opening && this.sessions.delete(checksum));
    }
    cached.loads += 1;
    try {
      const { session, signature } = await cached.session;
      return new OnnxLoadedModel(session, signature, batching, () => this.release(checksum));
    } catch (err) {
      cached.loads -= 1;
      throw err;
    }
  }

  async close(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map(async (cached) => (await cached.session).session.release()));
  }

  private async open(bytes: Buffer, path: string): Promise<{ session: InferenceSession; signature: ModelSignature }> {
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
        intraOpNumThreads: this.options.intraOpNumThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        // Fatal only: a failed run reaches its caller as an error, so onnxruntime's own stderr line is noise.
        logSeverityLevel: 4,
      });
    } catch (err) {
      throw new TypeError(`the model file ${path} is not an ONNX model onnxruntime can load: ${(err as Error).message}`, { cause: err });
    }
    const spec = (meta: InferenceSession.ValueMetadata, role: string): TensorSpec => {
      const datatype = meta.isTensor ? datatypeOf(meta.type) : undefined;
      if (!meta.isTensor || !datatype) throw new TypeError(`the model ${path} has ${role} "${meta.name}" of a type serving cannot carry (${meta.isTensor ? meta.type : 'not a tensor'})`);
      return { name: meta.name, datatype, shape: meta.shape.map((dim) => (typeof dim === 'number' ? dim : -1)) };
    };
    try {
      return { session, signature: { inputs: session.inputMetadata.map((m) => spec(m, 'input')), outputs: session.outputMetadata.map((m) => spec(m, 'output')) } };
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  private async release(checksum: string): Promise<void> {
    const cached = this.sessions.get(checksum);
    if (!cached || --cached.loads > 0) return;
    this.sessions.delete(checksum);
    await (await cached.session).session.release();
  }
}

/** A model loaded by `OnnxModelRuntime`: a handle on its shared session, with a batcher of its own. */
export class OnnxLoadedModel implements LoadedModel {
  private unloaded = false;
  private readonly batcher: DynamicBatcher<OrtInput[], Tensor[]>;
  /** Calls can share a run only where every input and output has a free first dimension. */
  private readonly batchable: boolean;

  constructor(
    private readonly session: InferenceSession,
    private readonly signature: ModelSignature,
    batching: DynamicBatching,
    private readonly release: () => Promise<void>,
  ) {
    this.batchable = [...signature.inputs, ...signature.outputs].every((spec) => spec.shape.length > 0 && spec.shape[0] === -1);
    this.batcher = new DynamicBatcher(batching, (batch) => this.run(batch));
  }

  describe(): ModelSignature {
    return structuredClone(this.signature) as ModelSignature;
  }

  async infer(inputs: readonly Tensor[], options: { signal?: AbortSignal } = {}): Promise<Tensor[]> {
    options.signal?.throwIfAborted();
    if (this.unloaded) throw new Error('the model was unloaded');
    const checked = checkInputs(this.signature, inputs);
    const rows = checked[0]?.shape[0];
    // A call whose inputs disagree on their rows cannot be split out of a batch: it runs alone.
    const alone = !this.batchable || checked.some((input) => input.shape[0] !== rows);
    const key = alone ? undefined : checked.map((input) => `${input.datatype}[${input.shape.slice(1).join(',')}]`).join(';');
    return this.batcher.submit(key, checked, rows ?? 1, options.signal);
  }

  async stats(): Promise<InferenceStats> {
    return this.batcher.stats();
  }

  async unload(): Promise<void> {
    if (this.unloaded) return;
    this.unloaded = true;
    this.batcher.close(new Error('the model was unloaded'));
    await this.release();
  }

  /** Runs the calls of one batch as one session run, and gives each call its own rows of every output. */
  private async run(batch: OrtInput[][]): Promise<Tensor[][]> {
    const inputs = batch.length === 1 ? batch[0] : (stackRows(batch) as OrtInput[]);
    const feeds = Object.fromEntries(inputs.map((input) => [input.name, new OrtTensor(ortType(input.datatype) as never, input.data as never, input.shape)]));
    const results = await this.session.run(feeds);
    const outputs = this.signature.outputs.map((spec) => ({ spec, tensor: results[spec.name] as OrtTensor }));
    if (batch.length === 1) return [outputs.map(({ spec, tensor }) => ({ name: spec.name, datatype: spec.datatype, shape: [...tensor.dims], data: fromOrtData(spec.datatype, tensor.data as OrtData, 0, tensor.size) }))];
    const total = inputs[0].shape[0];
    for (const { spec, tensor } of outputs) {
      if (tensor.dims[0] !== total) throw new Error(`output "${spec.name}" has ${tensor.dims[0]} rows for a batch of ${total}: the model cannot be batched; load it with batching.maxBatchSize 1`);
    }
    let first = 0;
    return batch.map((call) => {
      const rows = call[0].shape[0];
      const split = outputs.map(({ spec, tensor }) => {
        const rowSize = sizeOf(tensor.dims.slice(1));
        return { name: spec.name, datatype: spec.datatype, shape: [rows, ...tensor.dims.slice(1)], data: fromOrtData(spec.datatype, tensor.data as OrtData, first * rowSize, (first + rows) * rowSize) };
      });
      first += rows;
      return split;
    });
  }
}
