import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/** Features of a churn row: the model's input x is FP32 [batch, CHURN_FEATURES]. */
export const CHURN_FEATURES = 10;
const HIDDEN = 6;

/** The MLP's weights: x [batch, 10] -> relu(x·w1 + b1)·w2 + b2 -> y [batch, 2] (a score per class). */
const WEIGHTS = {
  w1: Array.from({ length: CHURN_FEATURES }, (_, i) => Array.from({ length: HIDDEN }, (_, j) => (((i * 5 + j * 3) % 9) - 4) / 8)),
  b1: Array.from({ length: HIDDEN }, (_, j) => (j % 2) / 10),
  w2: Array.from({ length: HIDDEN }, (_, j) => [((j % 4) - 1.5) / 3, ((j % 3) - 1) / 2]),
  b2: [0.05, -0.05],
};

// plugins/runtime-onnx's model writer (Debian's python3-onnx), run as a program: its `mlp` kind with the weights above.
const WRITE_MODEL = join(__dirname, '..', '..', '..', 'plugins', 'runtime-onnx', 'test', 'write-model.py');

/** Writes the churn MLP to `path`; resolves with the file's bytes. */
export async function churnModel(path: string): Promise<Buffer> {
  const child = promisify(execFile)('/usr/bin/python3', [WRITE_MODEL, path]);
  child.child.stdin?.end(JSON.stringify({ kind: 'mlp', ...WEIGHTS }));
  await child;
  return readFile(path);
}

/**
 * Writes a model with the churn model's input that loads but fails on every request: it reads
 * feature 11 of 10 (Gather index 10 on axis 1), which onnxruntime refuses when it runs.
 */
export async function brokenChurnModel(path: string): Promise<Buffer> {
  const script = [
    'import sys, onnx',
    'from onnx import helper, TensorProto',
    'g = helper.make_graph([helper.make_node("Gather", ["x", "i"], ["y"], axis=1)], "broken",',
    `  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, ${CHURN_FEATURES}])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],`,
    `  [helper.make_tensor("i", TensorProto.INT64, [1], [${CHURN_FEATURES}])])`,
    'm = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8',
    'onnx.save(m, sys.argv[1])',
  ].join('\n');
  await promisify(execFile)('/usr/bin/python3', ['-c', script, path]);
  return readFile(path);
}

/** What onnxruntime computes, in this process, for `rows` with the model at `path`: y's values, flattened. */
export async function onnxOutputs(path: string, rows: number[][]): Promise<number[]> {
  const session = await InferenceSession.create(path);
  try {
    const { y } = await session.run({ x: new Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0].length]) });
    return Array.from(y.data as Float32Array);
  } finally {
    await session.release();
  }
}
