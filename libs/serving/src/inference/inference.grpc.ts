import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { Controller, Inject, Optional } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { type Caller, callerOf, InvalidArgumentError, Public, Requires, wireField, type WireMessage } from '@trellis/platform';
import type { ModelSignature, Tensor } from '@trellis/plugin-sdk';
import {
  ModelInferResponse_InferOutputTensorSchema,
  ModelInferResponseSchema,
  ModelMetadataResponseSchema,
  ModelReadyResponseSchema,
  ServerLiveResponseSchema,
  ServerMetadataResponseSchema,
  ServerReadyResponseSchema,
  type InferTensorContents,
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelMetadataRequest,
  type ModelMetadataResponse,
  type ModelReadyRequest,
  type ModelReadyResponse,
  type ServerLiveResponse,
  type ServerMetadataResponse,
  type ServerReadyResponse,
} from '@trellis/proto';
import { checkInputs, checkRequestedOutputs, runInference } from './inference-request';
import {
  INFERENCE_OBSERVER,
  INFERENCE_SERVER_INFO,
  INFERENCE_TARGETS,
  PROJECT_HEADER,
  REQUEST_ID_HEADER,
  REVISION_HEADER,
  type InferenceObserver,
  type InferenceServerInfo,
  type InferenceTarget,
  type InferenceTargets,
  type TargetRequest,
} from './inference-targets';
import { ModelRunError } from './model-run.error';
import { encodesAsContents, tensorFromContents, tensorFromRaw, tensorToContents, tensorToRaw } from './tensor.codec';

/** The resource kind whose `read` permission calls a model: a model is served by an endpoint. */
const ENDPOINT_KIND = 'Endpoint';

/** Whether typed contents hold any element. */
function hasElements(contents: InferTensorContents | undefined): boolean {
  if (!contents) return false;
  const { boolContents, intContents, int64Contents, uintContents, uint64Contents, fp32Contents, fp64Contents, bytesContents } = contents;
  return (
    boolContents.length > 0 ||
    intContents.length > 0 ||
    int64Contents.length > 0 ||
    uintContents.length > 0 ||
    uint64Contents.length > 0 ||
    fp32Contents.length > 0 ||
    fp64Contents.length > 0 ||
    bytesContents.length > 0
  );
}

/**
 * The tensors of a ModelInferRequest, checked against the model's signature: typed contents per
 * input, or raw_input_contents for every input (one entry each, in input order, and no input with
 * contents). INVALID_ARGUMENT naming the input otherwise.
 */
export function tensorsOfRequest(request: ModelInferRequest, signature: ModelSignature): Tensor[] {
  const headers = checkInputs(request.inputs, signature);
  const raw = request.rawInputContents;
  if (raw.length === 0) return headers.map((header, index) => tensorFromContents(header, request.inputs[index].contents));
  if (raw.length !== request.inputs.length) {
    throw new InvalidArgumentError(`raw_input_contents has ${raw.length} entr${raw.length === 1 ? 'y' : 'ies'} but the request has ${request.inputs.length} inputs: it needs one per input, in input order`);
  }
  const withContents = request.inputs.find((input) => hasElements(input.contents));
  if (withContents) throw new InvalidArgumentError(`input ${JSON.stringify(withContents.name)} has contents but the request uses raw_input_contents: send every input one way`);
  return headers.map((header, index) => tensorFromRaw(header, raw[index]));
}

/**
 * The ModelInferResponse of a request's answer: raw_output_contents when the request sent raw
 * inputs or an output has no typed contents (FP16), typed contents otherwise. Its fields are
 * written by the kit's wire writer, carried as the message's unknown fields (which toBinary
 * copies as they are): building the message and letting toBinary walk it cost several times more.
 */
export function inferResponse(target: Pick<InferenceTarget, 'name' | 'version'>, requestId: string, tensors: readonly Tensor[], raw: boolean): ModelInferResponse {
  const asRaw = raw || tensors.some((tensor) => !encodesAsContents(tensor.datatype));
  const outputs = tensors.map(
    (tensor): WireMessage<typeof ModelInferResponse_InferOutputTensorSchema> => ({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: tensor.shape,
      parameters: {},
      contents: asRaw ? undefined : tensorToContents(tensor),
    }),
  );
  const response = create(ModelInferResponseSchema);
  response.$unknown = [
    ...wireField(ModelInferResponseSchema, 'modelName', target.name, 64),
    ...wireField(ModelInferResponseSchema, 'modelVersion', target.version, 64),
    ...wireField(ModelInferResponseSchema, 'id', requestId, 64),
    ...wireField(ModelInferResponseSchema, 'outputs', outputs, 256),
    ...(asRaw ? wireField(ModelInferResponseSchema, 'rawOutputContents', tensors.map(tensorToRaw), 256) : []),
  ];
  return response;
}

/** The caller the kit's auth guard attached to the call; none where the handlers are served without it (their own specs). */
function callerIfAny(metadata: Metadata | undefined): Caller | undefined {
  try {
    return metadata ? callerOf(metadata) : undefined;
  } catch {
    return undefined;
  }
}

/** The value a call sends in metadata `key`, if any. */
function sent(metadata: Metadata | undefined, key: string): string | undefined {
  const [value] = metadata?.get(key) ?? [];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What a call names: the model and version it asks for, and what its metadata pins and says of its caller. */
function targetRequest(model: string, version: string, metadata: Metadata | undefined): TargetRequest {
  return { model, version: version || undefined, revision: sent(metadata, REVISION_HEADER), project: sent(metadata, PROJECT_HEADER), caller: callerIfAny(metadata) };
}

/**
 * Handlers of `inference.GRPCInferenceService`, the Open Inference Protocol over gRPC: they
 * resolve the model a call names through `InferenceTargets`, check and decode its tensors, and
 * answer with the protocol's messages. ServerLive and ServerReady are health, open to anyone.
 */
@Controller()
export class InferenceGrpc {
  constructor(
    @Inject(INFERENCE_TARGETS) private readonly targets: InferenceTargets,
    @Inject(INFERENCE_SERVER_INFO) private readonly info: InferenceServerInfo,
    @Optional() @Inject(INFERENCE_OBSERVER) private readonly observer?: InferenceObserver,
  ) {}

  @GrpcMethod('GRPCInferenceService', 'ServerLive')
  @Public()
  serverLive(): ServerLiveResponse {
    return create(ServerLiveResponseSchema, { live: true });
  }

  @GrpcMethod('GRPCInferenceService', 'ServerReady')
  @Public()
  async serverReady(): Promise<ServerReadyResponse> {
    return create(ServerReadyResponseSchema, { ready: await this.targets.isReady() });
  }

  @GrpcMethod('GRPCInferenceService', 'ServerMetadata')
  @Public()
  serverMetadata(): ServerMetadataResponse {
    const { name, version, extensions } = this.info;
    return create(ServerMetadataResponseSchema, { name, version, extensions: [...extensions] });
  }

  @GrpcMethod('GRPCInferenceService', 'ModelReady')
  @Requires('read', ENDPOINT_KIND)
  async modelReady(request: ModelReadyRequest, metadata?: Metadata): Promise<ModelReadyResponse> {
    const target = await this.targets.resolve(targetRequest(request.name, request.version, metadata));
    return create(ModelReadyResponseSchema, { ready: target.isReady() });
  }

  @GrpcMethod('GRPCInferenceService', 'ModelMetadata')
  @Requires('read', ENDPOINT_KIND)
  async modelMetadata(request: ModelMetadataRequest, metadata?: Metadata): Promise<ModelMetadataResponse> {
    const target = await this.targets.resolve(targetRequest(request.name, request.version, metadata));
    const tensor = (spec: ModelSignature['inputs'][number]) => ({ name: spec.name, datatype: spec.datatype, shape: spec.shape.map(BigInt) });
    return create(ModelMetadataResponseSchema, {
      name: target.name,
      versions: [...target.versions],
      platform: target.platform,
      inputs: target.signature.inputs.map(tensor),
      outputs: target.signature.outputs.map(tensor),
    });
  }

  @GrpcMethod('GRPCInferenceService', 'ModelInfer')
  @Requires('read', ENDPOINT_KIND)
  async modelInfer(request: ModelInferRequest, metadata?: Metadata, call?: ServerUnaryCall<unknown, unknown>): Promise<ModelInferResponse> {
    const target = await this.targets.resolve(targetRequest(request.modelName, request.modelVersion, metadata));
    const inputs = tensorsOfRequest(request, target.signature);
    const outputs = checkRequestedOutputs(request.outputs.map((output) => output.name), target.signature);
    const requestId = request.id || randomUUID();
    let tensors: Tensor[];
    try {
      tensors = await runInference(target, inputs, outputs, requestId, call && { source: call, event: 'cancelled' }, this.observer);
    } catch (error) {
      // Ahead of the INTERNAL status, so a caller sees which revision failed (its ErrorInfo names it too).
      if (error instanceof ModelRunError) call?.sendMetadata(answerMetadata(error.requestId, error.revision));
      throw error;
    }
    call?.sendMetadata(answerMetadata(requestId, target.revision));
    return inferResponse(target, requestId, tensors, request.rawInputContents.length > 0);
  }
}

function answerMetadata(requestId: string, revision: string | undefined): Metadata {
  const metadata = new Metadata();
  metadata.set(REQUEST_ID_HEADER, requestId);
  if (revision !== undefined) metadata.set(REVISION_HEADER, revision);
  return metadata;
}
