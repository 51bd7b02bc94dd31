"""A stock Open Inference Protocol client, as a Python user writes one with grpcio.

It exchanges an API key for a platform token through the gateway (plain HTTP), then calls the
serving port over gRPC with stubs generated from grpc_predict_v2.proto: ServerLive, ModelReady,
ModelMetadata, and ModelInfer with raw_input_contents. It prints what it got as one JSON object.

Usage: python3 stock_oip_client.py STUBS_DIR GATEWAY_URL API_KEY GRPC_ADDRESS MODEL REQUEST_ID < rows.json
(rows: a JSON list of rows of FP32 features). Run with Debian's interpreter (python3-grpcio).
"""
import json
import struct
import sys
import urllib.request

stubs, gateway, api_key, address, model, request_id = sys.argv[1:7]
sys.path.insert(0, stubs)

import grpc  # noqa: E402
from inference import grpc_predict_v2_pb2 as pb  # noqa: E402
from inference import grpc_predict_v2_pb2_grpc as rpc  # noqa: E402


def exchange(api_key):
    request = urllib.request.Request(
        f"{gateway}/v1/trellis.governance.v1.TokenService/ExchangeApiKey",
        data=json.dumps({"apiKey": api_key}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)["token"]


def tensor(t):
    return {"name": t.name, "datatype": t.datatype, "shape": list(t.shape)}


rows = json.load(sys.stdin)
auth = [("authorization", f"Bearer {exchange(api_key)}")]
stub = rpc.GRPCInferenceServiceStub(grpc.insecure_channel(address))

live = stub.ServerLive(pb.ServerLiveRequest()).live
ready = stub.ModelReady(pb.ModelReadyRequest(name=model), metadata=auth).ready
metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name=model), metadata=auth)

features = [value for row in rows for value in row]
request = pb.ModelInferRequest(
    model_name=model,
    id=request_id,
    inputs=[pb.ModelInferRequest.InferInputTensor(name=metadata.inputs[0].name, datatype="FP32", shape=[len(rows), len(rows[0])])],
    raw_input_contents=[struct.pack(f"<{len(features)}f", *features)],
)
response, call = stub.ModelInfer.with_call(request, metadata=auth)
headers = dict(call.initial_metadata())
output = response.outputs[0]
raw = response.raw_output_contents[0]

print(json.dumps({
    "live": live,
    "ready": ready,
    "metadata": {"name": metadata.name, "versions": list(metadata.versions), "platform": metadata.platform,
                 "inputs": [tensor(t) for t in metadata.inputs], "outputs": [tensor(t) for t in metadata.outputs]},
    "infer": {"model_name": response.model_name, "model_version": response.model_version, "id": response.id,
              "output": {**tensor(output), "data": list(struct.unpack(f"<{len(raw) // 4}f", raw))},
              "revision": headers.get("trellis-revision"), "request_id": headers.get("trellis-request-id")},
}))
