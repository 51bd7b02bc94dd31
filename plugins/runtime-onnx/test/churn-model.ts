import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Features of a churn row: the churn model's input x is FP32 [batch, CHURN_FEATURES]. */
export const CHURN_FEATURES = 10;
const HIDDEN = 6;

/** The churn MLP's weights: x [batch, 10] -> relu(x·w1 + b1)·w2 + b2 -> y [batch, 2] (a score per class). */
const CHURN_WEIGHTS = {
  w1: Array.from({ length: CHURN_FEATURES }, (_, i) => Array.from({ length: HIDDEN }, (_, j) => (((i * 5 + j * 3) % 9) - 4) / 8)),
  b1: Array.from({ length: HIDDEN }, (_, j) => (j % 2) / 10),
  w2: Array.from({ length: HIDDEN }, (_, j) => [((j % 4) - 1.5) / 3, ((j % 3) - 1) / 2]),
  b2: [0.05, -0.05],
};

/**
 * Writes the churn MLP, the model the platform's walkthrough specs deploy, to `path` with this
 * plugin's model writer (Debian's python3-onnx); resolves with the file's bytes.
 */
export async function churnModel(path: string): Promise<Buffer> {
  const child = promisify(execFile)('/usr/bin/python3', [join(__dirname, 'write-model.py'), path]);
  child.child.stdin?.end(JSON.stringify({ kind: 'mlp', ...CHURN_WEIGHTS }));
  await child;
  return readFile(path);
}
