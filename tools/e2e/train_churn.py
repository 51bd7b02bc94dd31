"""The end-to-end suite's training job: what a user's script does on a Trellis cluster.

Reads the job's one dataset input (the folder compute hands it in TRELLIS_DATASET_DIRS; the
version in TRELLIS_DATASET_INPUTS), fits a logistic regression with numpy (batch gradient descent,
a fixed number of steps: the same data gives the same model), and logs to the job's run over
MLflow's REST API with the variables compute injects (no mlflow package): the dataset version as
its training input, the coefficients as params, the training loss and accuracy as metrics. The
model goes up as the run's artifact model/model.onnx: y = Sigmoid(x @ w + b), x FP32 [batch, k],
y FP32 [batch, 1].

Run with Debian's interpreter (python3-numpy, python3-onnx): `command -p python3 train_churn.py`.
"""
import csv
import glob
import json
import os
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import onnx
from onnx import TensorProto, helper

LABEL = "churned"
STEPS = 400
LEARNING_RATE = 0.5

TRACKING_URI = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
TOKEN = os.environ["MLFLOW_TRACKING_TOKEN"]
RUN_ID = os.environ["MLFLOW_RUN_ID"]
EXPERIMENT_ID = os.environ["MLFLOW_EXPERIMENT_ID"]


def request(method, path, body, content_type):
    """Sends one request to the gateway with the job's token; exits naming the call on anything but 200."""
    call = urllib.request.Request(f"{TRACKING_URI}{path}", data=body, method=method, headers={"authorization": f"Bearer {TOKEN}", "content-type": content_type})
    try:
        with urllib.request.urlopen(call) as answer:
            return answer.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path} answered {error.code}: {error.read().decode(errors='replace')}")


def mlflow(path, payload):
    return json.loads(request("POST", f"/api/2.0/mlflow/{path}", json.dumps(payload).encode(), "application/json") or b"{}")


def training_input():
    """The job's one dataset input: its version's reference and the CSV file in its folder."""
    (given,) = json.loads(os.environ["TRELLIS_DATASET_INPUTS"])
    (folder,) = json.loads(os.environ["TRELLIS_DATASET_DIRS"]).values()
    (path,) = glob.glob(os.path.join(folder, "**", "*.csv"), recursive=True)
    return given["resolvedReference"], path


def read_rows(path):
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    header, values = rows[0], np.array(rows[1:], dtype=np.float64)
    if header[-1] != LABEL:
        sys.exit(f"{path}: the last column is {header[-1]}, not {LABEL}")
    return header[:-1], values[:, :-1], values[:, -1]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def fit(x, y):
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(STEPS):
        error = sigmoid(x @ w + b) - y
        w -= LEARNING_RATE * (x.T @ error) / len(y)
        b -= LEARNING_RATE * error.mean()
    # The model computes in float32: what is logged and scored is what it holds.
    return w.astype(np.float32), np.float32(b)


def onnx_model(w, b):
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["y"]),
        ],
        "churn_logistic_regression",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", len(w)])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        [helper.make_tensor("w", TensorProto.FLOAT, [len(w), 1], w.tolist()), helper.make_tensor("b", TensorProto.FLOAT, [1], [float(b)])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def main():
    reference, path = training_input()
    name = reference.split("/")[1]
    mlflow("runs/log-inputs", {
        "run_id": RUN_ID,
        "datasets": [{"dataset": {"name": name, "digest": reference.rsplit("/", 1)[1], "source_type": "trellis", "source": reference}, "tags": [{"key": "mlflow.data.context", "value": "training"}]}],
    })
    columns, x, y = read_rows(path)
    w, b = fit(x, y)
    p = sigmoid(x @ w.astype(np.float64) + np.float64(b))
    log_loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    accuracy = float(np.mean((p >= 0.5) == (y == 1)))
    # repr of a float32 widened to float64 is its exact value, so a reader gets the model's coefficients bit for bit.
    params = [{"key": f"coef.{column}", "value": repr(float(value))} for column, value in zip(columns, w)]
    params += [{"key": "intercept", "value": repr(float(b))}, {"key": "steps", "value": str(STEPS)}, {"key": "features", "value": ",".join(columns)}]
    now = int(time.time() * 1000)
    metrics = [{"key": key, "value": value, "timestamp": now, "step": STEPS} for key, value in (("train_log_loss", log_loss), ("train_accuracy", accuracy))]
    mlflow("runs/log-batch", {"run_id": RUN_ID, "params": params, "metrics": metrics})
    request("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{EXPERIMENT_ID}/{RUN_ID}/artifacts/model/model.onnx", onnx_model(w, b), "application/octet-stream")
    print(f"trained on {reference} ({len(y)} rows): log loss {log_loss:.6f}, accuracy {accuracy:.4f}")


main()
