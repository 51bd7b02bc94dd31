import { randomUUID } from 'node:crypto';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { Controller, Inject, Optional } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { type Caller, callerOf, InvalidArgumentError, Public, Requires } from '@trellis/platform';
import type { ModelSignature, Tensor } from '@trellis/plugin-sdk';
import {
  ModelInferResponseSchema,
  ModelMetadataResponseSchema,
  ModelReadyResponseSchema,
  ServerLiveResponseSchema,
  ServerMetadataResponseSchema,
  ServerReadyResponseSchema,
  type InferTensorContents,
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelInferResponse_InferOutputTensorSchema,
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
  REQUEST_ID_HEADER,
  REVISION_HEADER,
  type InferenceObserver,
  type InferenceServerInfo,
  type InferenceTarget,
  type InferenceTargets,
  type TargetRequest,
} from './inference-targets';
import { encodesAsContents, tensorFromContents, tensorFromRaw, tensorToContents, tensorToRaw } from './tensor.codec';

/** The resource kind whose `read` permission calls a model: a model is served by an endpoint. */
const ENDPOINT_KIND = 'Endpoint';

/** Whether typed contents hold any element. */
function hasElements(contents: InferTensorContents | undefined): boolean {
  if (!contents) return false;
  const { boolContents, intContents, int64Contents, uintContents, uint64Contents, fp32Contents, fp64Contents, bytesContents } = contents;
  return [boolContents, intContents, int64Contents, uintContents, uint64Contents, fp32Contents, fp64Contents, bytesContents].some((values) => values.length > 0);
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
 * The outputs of a ModelInferResponse: raw_output_contents when the request sent raw inputs or an
 * output has no typed contents (FP16), typed contents otherwise.
 */
export function responseOutputs(tensors: readonly Tensor[], raw: boolean): Pick<MessageInitShape<typeof ModelInferResponseSchema>, 'outputs' | 'rawOutputContents'> {
  const asRaw = raw || tensors.some((tensor) => !encodesAsContents(tensor.datatype));
  const outputs = tensors.map(
    (tensor): MessageInitShape<typeof ModelInferResponse_InferOutputTensorSchema> => ({
      name: tensor.name,
      datatype: tensor.datatype,
      shape: tensor.shape.map(BigInt),
      contents: asRaw ? undefined : tensorToContents(tensor),
    }),
  );
  return asRaw ? { outputs, rawOutputContents: tensors.map(tensorToRaw) } : { outputs };
}

/** The caller the kit's auth guard attached to the call; none where the handlers are served without it (their own specs). */
function callerIfAny(metadata: Metadata | undefined): Caller | undefined {
  try {
    return metadata ? callerOf(metadata) : undefined;
  } catch {
    return undefined;
  }
}

/** The revision a call pins with the `trellis-revision` metadata, if any. */
function pinnedRevision(metadata: Metadata | undefined): string | undefined {
  const [value] = metadata?.get(REVISION_HEADER) ?? [];
  return typeof value === 'string' && value !== '' ? value : undefined;
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
    const target = await this.resolve({ model: request.name, version: request.version }, metadata);
    return create(ModelReadyResponseSchema, { ready: target.isReady() });
  }

  @GrpcMethod('GRPCInferenceService', 'ModelMetadata')
  @Requires('read', ENDPOINT_KIND)
  async modelMetadata(request: ModelMetadataRequest, metadata?: Metadata): Promise<ModelMetadataResponse> {
    const target = await this.resolve({ model: request.name, version: request.version }, metadata);
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
    const target = await this.resolve({ model: request.modelName, version: request.modelVersion }, metadata);
    const inputs = tensorsOfRequest(request, target.signature);
    const outputs = checkRequestedOutputs(request.outputs.map((output) => output.name), target.signature);
    const requestId = request.id || randomUUID();
    const aborted = new AbortController();
    call?.once('cancelled', () => aborted.abort());
    const tensors = await runInference(target, inputs, outputs, { requestId, signal: aborted.signal }, this.observer);
    call?.sendMetadata(answerMetadata(requestId, target.revision));
    return create(ModelInferResponseSchema, {
      modelName: target.name,
      modelVersion: target.version,
      id: requestId,
      ...responseOutputs(tensors, request.rawInputContents.length > 0),
    });
  }

  private async resolve(request: TargetRequest, metadata: Metadata | undefined): Promise<InferenceTarget> {
    return this.targets.resolve({ model: request.model, version: request.version || undefined, revision: pinnedRevision(metadata), caller: callerIfAny(metadata) });
  }
}

function answerMetadata(requestId: string, revision: string | undefined): Metadata {
  const metadata = new Metadata();
  metadata.set(REQUEST_ID_HEADER, requestId);
  if (revision !== undefined) metadata.set(REVISION_HEADER, revision);
  return metadata;
}
