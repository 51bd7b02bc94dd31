import { create } from '@bufbuild/protobuf';
import { MetricColumnsSchema, type MetricColumns } from '@trellis/proto';
import { doubleJson } from './mlflow-json';

const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
/** Bytes a point takes besides its key and run id: a double, two int64 and the field names. */
const POINT_BYTES = 96;
/**
 * Points whose doubles are converted to text together: JSON.stringify of an array of numbers takes a
 * third of the time of converting them one by one, and a block this small stays out of V8's
 * large-object space, whose fresh pages cost more than the conversion on a loaded machine.
 */
const BLOCK = 2048;
/**
 * Bytes of each piece of the document. Pieces this small come from memory the process already
 * has; one buffer the size of a whole history (1.6 MB for 20,000 points) is fresh memory, and on
 * a loaded machine its page faults cost as much as writing it.
 */
const PIECE_BYTES = 64 * 1024;

/**
 * MLflow's JSON of metric points, `{"key":...,"value":...,"timestamp":...,"step":...}` each (then
 * `"run_id"` when given), comma-separated, written straight from packed columns into pieces of
 * 64 KiB. An object per point, then JSON.stringify of them all, cost a history of 20,000 points
 * about twice as much, most of it in collecting the objects. Doubles are written as JSON.stringify
 * writes blocks of them (NaN and the infinities as MLflow's strings); integers digit by digit.
 */
export class MetricsJson {
  private readonly done: Buffer[] = [];
  private piece = Buffer.allocUnsafe(PIECE_BYTES);
  private at = 0;
  private points = 0;

  /** Starts with `prefix` (such as `{"metrics":[`). */
  constructor(prefix = '') {
    this.text(prefix);
  }

  /** How many points were written. */
  get count(): number {
    return this.points;
  }

  /** Adds the points of one series, each with `runId` when given. */
  add(series: MetricColumns | undefined, runId?: string): this {
    if (!series || series.steps.length === 0) return this;
    const { steps, timestampsMs, values } = series;
    const head = Buffer.from(`{"key":${JSON.stringify(series.key)},"value":`);
    const timestamp = Buffer.from(',"timestamp":');
    const step = Buffer.from(',"step":');
    const tail = Buffer.from(runId === undefined ? '}' : `,"run_id":${JSON.stringify(runId)}}`);
    const pointBytes = head.length + tail.length + POINT_BYTES;
    const starts = new Uint32Array(BLOCK + 1);
    for (let first = 0; first < steps.length; first += BLOCK) {
      const end = Math.min(steps.length, first + BLOCK);
      const doubles = JSON.stringify(values.slice(first, end));
      numberStarts(doubles, starts);
      for (let i = first; i < end; i++) {
        if (this.at + pointBytes > this.piece.length) this.nextPiece(pointBytes);
        const buffer = this.piece;
        let at = this.at;
        if (this.points > 0) buffer[at++] = COMMA;
        at = copy(buffer, at, head);
        const value = values[i];
        if (Number.isFinite(value)) {
          for (let c = starts[i - first], last = starts[i - first + 1] - 1; c < last; c++) buffer[at++] = doubles.charCodeAt(c);
        } else {
          at += buffer.write(`"${doubleJson(value)}"`, at, 'latin1');
        }
        at = copy(buffer, at, timestamp);
        at = writeInteger(buffer, at, Number(timestampsMs[i]));
        at = copy(buffer, at, step);
        at = writeInteger(buffer, at, Number(steps[i]));
        this.at = copy(buffer, at, tail);
        this.points++;
      }
    }
    return this;
  }

  /** Adds `text` as it is (such as the end of the document). */
  text(text: string): this {
    const bytes = Buffer.byteLength(text);
    if (this.at + bytes > this.piece.length) this.nextPiece(bytes);
    this.at += this.piece.write(text, this.at, 'utf8');
    return this;
  }

  /** The pieces written, in order. */
  finish(): Buffer[] {
    if (this.at > 0) this.done.push(this.piece.subarray(0, this.at));
    this.piece = Buffer.alloc(0);
    this.at = 0;
    return this.done;
  }

  private nextPiece(atLeast: number): void {
    if (this.at > 0) this.done.push(this.piece.subarray(0, this.at));
    this.piece = Buffer.allocUnsafe(Math.max(PIECE_BYTES, atLeast));
    this.at = 0;
  }
}

/**
 * The first `limit` of the points of `parts` (of one series, in logged order) in the order MLflow's
 * store gives a run's history for get-history-bulk: by timestamp, then step, then value (NaN last),
 * then as logged. The part itself when there is one, already in that order (as logged points nearly
 * always are) and within the limit.
 */
export function earliestPoints(parts: ReadonlyArray<MetricColumns | undefined>, limit: number): MetricColumns | undefined {
  const pages = parts.filter((part): part is MetricColumns => part !== undefined && part.steps.length > 0);
  if (pages.length === 0) return undefined;
  const [first] = pages;
  const points = pages.length === 1 ? first : create(MetricColumnsSchema, {
    key: first.key,
    steps: pages.flatMap((page) => page.steps),
    timestampsMs: pages.flatMap((page) => page.timestampsMs),
    values: pages.flatMap((page) => page.values),
  });
  const { steps, timestampsMs, values } = points;
  const compare = (a: number, b: number) =>
    compareIntegers(timestampsMs[a], timestampsMs[b]) || compareIntegers(steps[a], steps[b]) || compareValues(values[a], values[b]) || a - b;
  let sorted = true;
  for (let i = 1; i < steps.length && sorted; i++) sorted = compare(i - 1, i) < 0;
  if (sorted && steps.length <= limit) return points;
  const order = Array.from(steps, (_, i) => i);
  if (!sorted) order.sort(compare);
  const kept = order.slice(0, limit);
  return create(MetricColumnsSchema, { key: points.key, steps: kept.map((i) => steps[i]), timestampsMs: kept.map((i) => timestampsMs[i]), values: kept.map((i) => values[i]) });
}

/**
 * Where each number starts in `json`, JSON.stringify of an array of numbers: `starts[i]` is the
 * index of number i's first character, and the entry after the last number is one past the closing
 * bracket, so number i ends before `starts[i + 1] - 1`.
 */
function numberStarts(json: string, starts: Uint32Array): void {
  let n = 0;
  starts[n++] = 1;
  for (let c = 1; c < json.length; c++) if (json.charCodeAt(c) === COMMA || c === json.length - 1) starts[n++] = c + 1;
}

function copy(buffer: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) buffer[at + i] = bytes[i];
  return at + bytes.length;
}

/** A safe integer's decimal digits. */
function writeInteger(buffer: Buffer, at: number, value: number): number {
  if (value < 0) {
    buffer[at++] = MINUS;
    value = -value;
  }
  if (value < 2 ** 31) return writeSmall(buffer, at, value);
  // Above 2^31, the digits below 10^9 separately: each part fits the 32-bit arithmetic of writeSmall.
  const high = Math.floor(value / 1e9);
  at = writeSmall(buffer, at, high);
  writeSmall(buffer, at, value - high * 1e9, 9);
  return at + 9;
}

/** The digits of 0 <= `value` < 2^31, at least `width` of them (leading zeros). */
function writeSmall(buffer: Buffer, at: number, value: number, width = 1): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = (rest / 10) | 0) digits++;
  const end = at + Math.max(digits, width);
  for (let p = end - 1; p >= at; p--) {
    const rest = (value / 10) | 0;
    buffer[p] = ZERO + value - rest * 10;
    value = rest;
  }
  return end;
}

function compareIntegers(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Numbers in order, NaN after every number. */
function compareValues(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return a - b;
}
