import { excerpt, FailedPreconditionError } from '@trellis/platform';
import type { ColumnKindName, MonitoredColumnRow, MonitorEntity, TensorDescription } from './monitor.entity';

export type { TensorDescription } from './monitor.entity';

/** How many names an error lists before it says how many more there are. */
const NAMES_SHOWN = 12;

/** The kind of a tensor's values: BYTES and BOOL are categories, every other datatype numbers. */
export function tensorKind(datatype: string): ColumnKindName {
  return datatype === 'BYTES' || datatype === 'BOOL' ? 'categorical' : 'numeric';
}

/**
 * The columns a monitor scores, read from the model's tensors. A one-dimensional tensor (or one of
 * shape [rows, 1]) is one column named as the tensor; a tensor of shape [rows, k] is k columns,
 * named by the monitor's tensor_columns, else (an input, with `referenceColumns`) by the first k
 * reference columns when the reference has k or k + 1 (the last being the label), else
 * `tensor[i]`. Tensors of more dimensions are not scored. With `referenceColumns`, only columns
 * the reference has are kept (outputs too, when one is named like a reference column), and every
 * input tensor must keep one. The monitor's requested columns filter the rest; its detectors
 * override a column's detector and threshold (otherwise '' and 0: the default policy's).
 * FAILED_PRECONDITION (COLUMNS_UNRESOLVED) saying what does not match.
 */
export function resolveTensorColumns(monitor: MonitorEntity, tensors: readonly TensorDescription[], referenceColumns?: readonly string[]): MonitoredColumnRow[] {
  const given = new Map(monitor.tensorColumns.map((entry) => [entry.tensor, entry.names]));
  for (const entry of monitor.tensorColumns) {
    if (!tensors.some((tensor) => tensor.name === entry.tensor)) {
      unresolved(`tensor_columns names tensor "${excerpt(entry.tensor)}", which the model does not have; it has ${listed(tensors.map((tensor) => tensor.name))}`);
    }
  }
  const inReference = referenceColumns && new Set(referenceColumns);
  const columns: MonitoredColumnRow[] = [];
  for (const tensor of tensors) {
    const names = namesOf(tensor, given.get(tensor.name), referenceColumns);
    const kept = names.map((name, index) => ({ name, index })).filter(({ name }) => !inReference || inReference.has(name));
    if (inReference && !tensor.output && kept.length === 0) {
      unresolved(
        `no column of input tensor "${tensor.name}" (shape [${tensor.shape.join(', ')}]${names.length ? `, columns ${listed(names)}` : ''}) is a column of the reference (${listed(referenceColumns ?? [])}); name its columns with tensor_columns`,
      );
    }
    const kind = tensorKind(tensor.datatype);
    columns.push(...kept.map(({ name, index }) => ({ name, kind, output: tensor.output, tensor: tensor.name, index, detector: '', threshold: 0 })));
  }
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column.name)) unresolved(`two columns are named "${excerpt(column.name)}"; give the tensors' columns distinct names with tensor_columns`);
    seen.add(column.name);
  }
  const requested = monitor.requestedColumns;
  const missing = requested.filter((name) => !seen.has(name));
  if (missing.length) unresolved(`columns names ${listed(missing)}, which the model's tensors${inReference ? ' and the reference' : ''} do not both have; there are ${listed([...seen])}`);
  const chosen = requested.length ? columns.filter((column) => requested.includes(column.name)) : columns;
  if (chosen.length === 0) unresolved(`the model's tensors (${listed(tensors.map((tensor) => tensor.name))}) give no column to score`);
  return withDetectorOverrides(monitor, chosen);
}

/**
 * `chosen` with the monitor's detector overrides applied (each names a chosen column, whose
 * detector and threshold it sets); COLUMNS_UNRESOLVED for an override of a column not chosen.
 */
export function withDetectorOverrides(monitor: Pick<MonitorEntity, 'detectors'>, chosen: MonitoredColumnRow[]): MonitoredColumnRow[] {
  for (const override of monitor.detectors) {
    const column = chosen.find((candidate) => candidate.name === override.column);
    if (!column) unresolved(`detectors names column "${excerpt(override.column)}", which the monitor does not score; it scores ${listed(chosen.map(({ name }) => name))}`);
    column.detector = override.detector;
    column.threshold = override.threshold;
  }
  return chosen;
}

/** The names of a tensor's columns, by position (none for a tensor of more than two dimensions or of unknown width). */
function namesOf(tensor: TensorDescription, given: string[] | undefined, referenceColumns: readonly string[] | undefined): string[] {
  const { shape } = tensor;
  if (shape.length > 2) {
    if (given) unresolved(`tensor_columns names the columns of tensor "${tensor.name}", whose shape [${shape.join(', ')}] has more than two dimensions`);
    return [];
  }
  const width = shape.length === 2 ? shape[1] : 1;
  if (given) {
    if (width >= 0 && given.length !== width) unresolved(`tensor_columns gives ${given.length} names for tensor "${tensor.name}", whose shape [${shape.join(', ')}] has ${width} columns`);
    return given;
  }
  if (width === 1) return [tensor.name];
  if (width < 0) return [];
  if (!tensor.output && referenceColumns && (referenceColumns.length === width || referenceColumns.length === width + 1)) return referenceColumns.slice(0, width);
  return Array.from({ length: width }, (_, index) => `${tensor.name}[${index}]`);
}

/** FAILED_PRECONDITION (COLUMNS_UNRESOLVED) saying why. */
export function unresolved(message: string): never {
  throw new FailedPreconditionError(message, { reason: 'COLUMNS_UNRESOLVED' });
}

/** Names for a message: quoted, the first few, and how many more. */
export function listed(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const shown = names.slice(0, NAMES_SHOWN).map((name) => `"${excerpt(name)}"`);
  return names.length > NAMES_SHOWN ? `${shown.join(', ')} and ${names.length - NAMES_SHOWN} more` : shown.join(', ');
}
