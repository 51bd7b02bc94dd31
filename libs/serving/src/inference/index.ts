export { InferenceGrpc, inferResponse, tensorsOfRequest } from './inference.grpc';
export { DEFAULT_MAX_INFER_BODY_BYTES, inferenceHttpHandler, type InferenceHttpOptions } from './inference.http';
export { InferenceModule, type InferenceModuleOptions } from './inference.module';
export * from './inference-targets';
export { ModelRunError } from './model-run.error';
export { checkInputs, checkRequestedOutputs, runInference } from './inference-request';
export { tensorFromContents, tensorFromJson, tensorFromRaw, tensorToContents, tensorToRaw } from './tensor.codec';
