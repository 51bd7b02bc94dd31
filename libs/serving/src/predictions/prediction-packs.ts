import type { Tensor } from '@trellis/plugin-sdk';
import { elementCount } from '../inference/tensor.codec';
import { DATATYPES } from '../inference/tensor-datatypes';
import type { TraceRow } from './trace-writer';

/** One sampled prediction waiting in a pack: what its log is built from when the pack is sent. */
export interface PackedPrediction {
  row: TraceRow;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
}

/** How {@link PredictionPacks} gathers predictions. */
export interface PredictionPacksOptions {
  /** Most predictions a pack holds. */
  rows: number;
  /** How long the first prediction of a pack waits for others before the pack goes. */
  lingerMs: number;
  /** About the most tensor bytes a pack holds (what a log carries of each tensor, as `bytesLogged` reckons it). */
  maxBytes: number;
  /** Largest tensor a log carries, in raw bytes (services.serving.predictionLogMaxTensorBytes). */
  tensorCap: number;
  /** Takes a finished pack, all of one project, in the order its predictions came. */
  ship: (projectId: string, pack: PackedPrediction[]) => void;
}

/** A pack being filled. */
interface OpenPack {
  predictions: PackedPrediction[];
  bytes: number;
}

/** What a log carries of a prediction besides its tensors' data: ids, names, shapes, framing. */
const PREDICTION_OVERHEAD_BYTES = 256;
const TENSOR_OVERHEAD_BYTES = 64;

/**
 * Gathers sampled predictions into packs, one open pack per project: a pack is shipped when it
 * holds `rows` predictions or about `maxBytes` of tensors, or `lingerMs` after the first
 * prediction of the oldest open pack came (every open pack goes then). Adding costs a push and a
 * size reckoning, nothing is built or encoded here. After `close`, each prediction is shipped
 * alone at once (so the publisher, closed too, counts it as dropped).
 */
export class PredictionPacks {
  private readonly open = new Map<string, OpenPack>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: PredictionPacksOptions) {}

  add(prediction: PackedPrediction): void {
    const { projectId } = prediction.row;
    if (this.closed) {
      this.options.ship(projectId, [prediction]);
      return;
    }
    const bytes = bytesLogged(prediction, this.options.tensorCap);
    let pack = this.open.get(projectId);
    if (pack && pack.bytes + bytes > this.options.maxBytes) {
      this.shipOne(projectId, pack);
      pack = undefined;
    }
    if (!pack) {
      pack = { predictions: [], bytes: 0 };
      this.open.set(projectId, pack);
    }
    pack.predictions.push(prediction);
    pack.bytes += bytes;
    if (pack.predictions.length >= this.options.rows || pack.bytes >= this.options.maxBytes) this.shipOne(projectId, pack);
    else this.timer ??= setTimeout(() => this.drain(), this.options.lingerMs).unref();
  }

  /** Ships every open pack now. */
  drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const packs = [...this.open];
    this.open.clear();
    for (const [projectId, pack] of packs) this.options.ship(projectId, pack.predictions);
  }

  /** Ships what is open and ships every later prediction alone, at once. */
  close(): void {
    this.closed = true;
    this.drain();
  }

  private shipOne(projectId: string, pack: OpenPack): void {
    this.open.delete(projectId);
    if (this.open.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.options.ship(projectId, pack.predictions);
  }
}

/** About how many bytes the log of `prediction` takes: each tensor's raw bytes up to `cap` (none beyond it), and their headers. */
export function bytesLogged(prediction: PackedPrediction, cap: number): number {
  let bytes = PREDICTION_OVERHEAD_BYTES;
  for (const tensor of prediction.inputs) bytes += TENSOR_OVERHEAD_BYTES + tensorBytes(tensor, cap);
  for (const tensor of prediction.outputs) bytes += TENSOR_OVERHEAD_BYTES + tensorBytes(tensor, cap);
  return bytes;
}

/**
 * The raw bytes a log carries of `tensor`: 0 when over `cap` (truncated); BYTES at most, strings
 * reckoned at 3 UTF-8 bytes a UTF-16 unit and walked no further than `cap`.
 */
function tensorBytes(tensor: Tensor, cap: number): number {
  if (tensor.datatype !== 'BYTES') {
    const bytes = elementCount(tensor.shape) * DATATYPES[tensor.datatype].size;
    return bytes > cap ? 0 : bytes;
  }
  const values = tensor.data as ArrayLike<string | Uint8Array>;
  let bytes = 0;
  for (let index = 0; index < values.length && bytes <= cap; index++) {
    const value = values[index];
    bytes += 4 + (typeof value === 'string' ? value.length * 3 : value.byteLength);
  }
  return Math.min(bytes, cap);
}
