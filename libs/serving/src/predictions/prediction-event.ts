import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Tensor } from '@trellis/plugin-sdk';
import type { LoggedTensor, PredictionLoggedEvent, PredictionsLoggedEvent } from '@trellis/proto';
import { tensorToRaw } from '../inference/tensor.codec';
import type { PackedPrediction } from './prediction-packs';
import type { TraceRow } from './trace-writer';

/**
 * The event of a pack of logged predictions, in their order; one whose log cannot be built (its
 * tensors do not hold what their datatypes say) is left out and handed to `failed`.
 */
export function predictionsEvent(pack: readonly PackedPrediction[], cap: number, failed: (prediction: PackedPrediction, error: unknown) => void): PredictionsLoggedEvent {
  const predictions: PredictionLoggedEvent[] = [];
  for (const prediction of pack) {
    try {
      predictions.push(predictionEvent(prediction.row, prediction.inputs, prediction.outputs, cap));
    } catch (error) {
      failed(prediction, error);
    }
  }
  return { $typeName: 'trellis.serving.v1.PredictionsLoggedEvent', predictions };
}

/**
 * The log of one prediction, tensors as raw bytes up to `cap` each (only their header
 * beyond). Built as plain messages, not through `create`, which costs more than the encoding on
 * this hot a stream; every field is set, as the message types require.
 */
export function predictionEvent(row: TraceRow, inputs: readonly Tensor[], outputs: readonly Tensor[], cap: number): PredictionLoggedEvent {
  return {
    $typeName: 'trellis.serving.v1.PredictionLoggedEvent',
    prediction: {
      $typeName: 'trellis.serving.v1.LoggedPrediction',
      requestId: row.requestId,
      projectId: row.projectId,
      endpointId: row.endpointId,
      endpointName: row.endpointName,
      revisionId: row.revisionId,
      answeredAt: timestampFromMs(row.answeredAt),
      latencyUs: BigInt(row.latencyUs),
    },
    inputs: inputs.map((tensor) => logged(tensor, cap)),
    outputs: outputs.map((tensor) => logged(tensor, cap)),
  };
}

/** A tensor as a log carries it: its raw bytes (a view, not a copy) up to `cap`, only its header beyond. */
function logged(tensor: Tensor, cap: number): LoggedTensor {
  const raw = tensorToRaw(tensor);
  const truncated = raw.byteLength > cap;
  return { $typeName: 'trellis.serving.v1.LoggedTensor', name: tensor.name, datatype: tensor.datatype, shape: tensor.shape.map(BigInt), rawContents: truncated ? new Uint8Array() : raw, truncated };
}
