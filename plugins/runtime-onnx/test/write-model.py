"""Writes the ONNX models the specs and the bench use, from weights given as JSON on stdin.

mlp:        x FP32 [batch, features] -> MatMul+Add+Relu+MatMul+Add -> y FP32 [batch, outputs]
row-sum:    x FP32 [batch, length] -> ReduceSum over axis 1 -> y FP32 [batch, 1]
fixed-mlp:  the mlp with its batch dimension fixed at 1

Usage: python3 write-model.py OUT.onnx < spec.json, spec = {"kind": ..., "w1", "b1", "w2", "b2"}.
Run with Debian's interpreter (python3-onnx).
"""
import json
import sys

import onnx
from onnx import TensorProto, helper


def tensor(name, rows):
    flat = [v for row in rows for v in row] if rows and isinstance(rows[0], list) else rows
    dims = [len(rows), len(rows[0])] if rows and isinstance(rows[0], list) else [len(rows)]
    return helper.make_tensor(name, TensorProto.FLOAT, dims, flat)


def mlp(spec, batch):
    w1, b1, w2, b2 = spec["w1"], spec["b1"], spec["w2"], spec["b2"]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h"]),
        helper.make_node("MatMul", ["h", "w2"], ["o0"]),
        helper.make_node("Add", ["o0", "b2"], ["y"]),
    ]
    return helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, len(w1)])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, len(w2[0])])],
        [tensor("w1", w1), tensor("b1", b1), tensor("w2", w2), tensor("b2", b2)],
    )


def row_sum():
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    return helper.make_graph(
        [helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=1)],
        "row_sum",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "length"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        [axes],
    )


def main():
    spec = json.load(sys.stdin)
    kind = spec["kind"]
    graph = {"mlp": lambda: mlp(spec, "batch"), "fixed-mlp": lambda: mlp(spec, 1), "row-sum": row_sum}[kind]()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[1])


main()
