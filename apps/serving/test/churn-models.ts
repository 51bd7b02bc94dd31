import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';

import { CHURN_FEATURES } from '@trellis/plugin-runtime-onnx/testing';

export { CHURN_FEATURES, churnModel } from '@trellis/plugin-runtime-onnx/testing';

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
