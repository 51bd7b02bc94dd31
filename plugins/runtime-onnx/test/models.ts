import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The models test/write-model.py writes. */
export type ModelKind = 'mlp' | 'fixed-mlp' | 'row-sum';

export const FEATURES = 10;
const HIDDEN = 8;
export const OUTPUTS = 3;

/** The MLP's fixed weights, each a float32 (as the model stores them). */
export const WEIGHTS = {
  w1: grid(FEATURES, HIDDEN, (i, j) => (((i * 7 + j * 3) % 11) - 5) / 10),
  b1: Array.from({ length: HIDDEN }, (_, j) => Math.fround(((j % 3) - 1) / 10)),
  w2: grid(HIDDEN, OUTPUTS, (j, k) => (((j * 5 + k * 2) % 7) - 3) / 5),
  b2: [0.1, -0.2, 0.3].map(Math.fround),
};

function grid(rows: number, columns: number, value: (row: number, column: number) => number): number[][] {
  return Array.from({ length: rows }, (_, row) => Array.from({ length: columns }, (_, column) => Math.fround(value(row, column))));
}

/** Writes a model of `kind` to `path` with Debian's python3-onnx (`/usr/bin/python3`: the system interpreter, not a pyenv shim). */
export async function writeModel(kind: ModelKind, path: string): Promise<string> {
  const script = join(__dirname, 'write-model.py');
  const child = promisify(execFile)('/usr/bin/python3', [script, path]);
  child.child.stdin?.end(JSON.stringify({ kind, ...WEIGHTS }));
  await child;
  return path;
}

/** The MLP's outputs for `rows` of FEATURES values each, computed here in float64: relu(x·w1 + b1)·w2 + b2. */
export function mlp(rows: readonly (readonly number[])[]): number[][] {
  return rows.map((x) => {
    const hidden = WEIGHTS.b1.map((bias, j) => Math.max(0, x.reduce((sum, value, i) => sum + Math.fround(value) * WEIGHTS.w1[i][j], bias)));
    return WEIGHTS.b2.map((bias, k) => hidden.reduce((sum, value, j) => sum + value * WEIGHTS.w2[j][k], bias));
  });
}

/** `count` rows of FEATURES values, different for each `seed`. */
export function featureRows(count: number, seed = 0): number[][] {
  return Array.from({ length: count }, (_, row) => Array.from({ length: FEATURES }, (_, i) => Math.fround(Math.sin(seed * 31 + row * 13 + i) * 2)));
}

/** `data` holds `expected`'s values, flattened, each within 1e-5. */
export function expectValues(data: unknown, expected: readonly (readonly number[])[]): void {
  const values = Array.from(data as ArrayLike<number>);
  const wanted = expected.flat();
  expect(values).toHaveLength(wanted.length);
  values.forEach((value, i) => expect(Math.abs(value - wanted[i])).toBeLessThan(1e-5));
}
