import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/** `y = x * factor` over x FP32 [batch, 4], written to `path` with Debian's python3-onnx; resolves with the file's bytes. */
export async function scaleModel(factor: number, path: string): Promise<Buffer> {
  const script = [
    'import sys, onnx',
    'from onnx import helper, TensorProto',
    'f = float(sys.argv[2])',
    'g = helper.make_graph([helper.make_node("Mul", ["x", "c"], ["y"])], "scale",',
    '  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])],',
    '  [helper.make_tensor("c", TensorProto.FLOAT, [4], [f] * 4)])',
    'm = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8',
    'onnx.save(m, sys.argv[1])',
  ].join('\n');
  await promisify(execFile)('/usr/bin/python3', ['-c', script, path, String(factor)]);
  return readFile(path);
}
