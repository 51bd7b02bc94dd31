import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  GetPredictionLoggingResponseSchema,
  SetPredictionLoggingResponseSchema,
  TracePredictionResponseSchema,
  type GetPredictionLoggingRequest,
  type GetPredictionLoggingResponse,
  type SetPredictionLoggingRequest,
  type SetPredictionLoggingResponse,
  type TracePredictionRequest,
  type TracePredictionResponse,
} from '@trellis/proto';
import { ENDPOINT_KIND } from '../endpoints/endpoint.service';
import { PredictionService } from './prediction.service';

/** Handlers of `trellis.serving.v1.PredictionService`. */
@Controller()
export class PredictionGrpc {
  constructor(private readonly predictions: PredictionService) {}

  @GrpcMethod('PredictionService', 'SetPredictionLogging')
  @Requires('update', ENDPOINT_KIND)
  async setPredictionLogging(request: SetPredictionLoggingRequest, metadata: Metadata): Promise<SetPredictionLoggingResponse> {
    return create(SetPredictionLoggingResponseSchema, { logging: await this.predictions.setLogging(callerOf(metadata), request.endpointId, request.sampleShare) });
  }

  @GrpcMethod('PredictionService', 'GetPredictionLogging')
  @Requires('read', ENDPOINT_KIND)
  async getPredictionLogging(request: GetPredictionLoggingRequest, metadata: Metadata): Promise<GetPredictionLoggingResponse> {
    return create(GetPredictionLoggingResponseSchema, { logging: await this.predictions.getLogging(callerOf(metadata), request.endpointId) });
  }

  @GrpcMethod('PredictionService', 'TracePrediction')
  @Requires('read', ENDPOINT_KIND)
  async tracePrediction(request: TracePredictionRequest, metadata: Metadata): Promise<TracePredictionResponse> {
    const trace = await this.predictions.trace(callerOf(metadata), request.requestId);
    const { answeredAt, latencyUs, seq: _seq, ...prediction } = trace.prediction;
    return create(TracePredictionResponseSchema, {
      prediction: { ...prediction, answeredAt: timestampFromMs(answeredAt), latencyUs: BigInt(latencyUs) },
      revisionNumber: trace.revisionNumber,
      modelName: trace.modelName,
      modelVersion: BigInt(trace.modelVersion),
      runId: trace.runId,
      datasets: trace.datasets,
    });
  }
}
