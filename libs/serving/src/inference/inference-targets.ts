import type { Caller } from '@trellis/platform';
import type { InferenceStats, ModelSignature, Tensor } from '@trellis/plugin-sdk';

/** The gRPC metadata key and HTTP header that pin a request to one revision of an endpoint, bypassing the traffic split. */
export const REVISION_HEADER = 'trellis-revision';

/**
 * The gRPC metadata key and HTTP header that name the project (by id) whose endpoint a model name
 * means, when endpoints of that name exist in several projects the caller may read.
 */
export const PROJECT_HEADER = 'trellis-project';

/** What a request names: a model (an endpoint), maybe a version, maybe a pinned revision. */
export interface TargetRequest {
  /** The model name a client calls (`model_name`, `/v2/models/{name}`). */
  model: string;
  /** The version asked for (`model_version`, `/versions/{v}`); undefined for any. */
  version?: string;
  /** The revision pinned by the `trellis-revision` header; undefined to follow the traffic split. */
  revision?: string;
  /** The project named by the `trellis-project` header; undefined for any project the caller may read. */
  project?: string;
  /** Who calls: the model is served only to a caller that may read the endpoint's project. */
  caller?: Caller;
}

/** Options of one inference call. */
export interface InferOptions {
  /** The request's id, as the caller sent it or as the server chose it; returned to the caller. */
  requestId: string;
  /** Aborted when the caller goes away. */
  signal?: AbortSignal;
}

/** One model that answers requests: what the protocol handlers run inference on. */
export interface InferenceTarget {
  /** The model name clients call it by. */
  readonly name: string;
  /** The version that answers (`model_version` of the response). */
  readonly version: string;
  /** Every version this name may answer with (ModelMetadata's `versions`). */
  readonly versions: readonly string[];
  /** The framework it runs on (`onnx`), ModelMetadata's `platform`. */
  readonly platform: string;
  /** The revision that answers, when the name has several; returned in the `trellis-revision` header. */
  readonly revision?: string;
  /** The endpoint that answers and its project, when the name is an endpoint's (for metrics and prediction logs). */
  readonly endpoint?: { readonly id: string; readonly projectId: string };
  /** What the revision's loaded model has run (batch sizes, queue delay), when its runtime counts. */
  readonly stats?: () => Promise<InferenceStats>;
  /** Its inputs and outputs; requests are checked against them before `infer` sees them. */
  readonly signature: ModelSignature;
  /** Whether it can infer now. */
  isReady(): boolean;
  /**
   * Runs one request's tensors, already checked against `signature` (names, datatypes, shapes,
   * element counts), and returns every output; throws a DomainError for a failure the caller can act on.
   */
  infer(inputs: readonly Tensor[], options: InferOptions): Promise<Tensor[]>;
}

/**
 * What the Open Inference Protocol handlers serve: the control plane (endpoints, revisions,
 * traffic split) implements it and binds it to `INFERENCE_TARGETS`.
 */
export interface InferenceTargets {
  /**
   * The target that answers `request`: with a revision, that revision; else the one the traffic
   * split picks for this request. Throws NotFoundError naming the model (or version, or revision)
   * when nothing serves it.
   */
  resolve(request: TargetRequest): InferenceTarget | Promise<InferenceTarget>;
  /** Whether every model served is ready (`/v2/health/ready`, ServerReady). */
  isReady(): boolean | Promise<boolean>;
}

/** The Nest injection token of the `InferenceTargets` the handlers use. */
export const INFERENCE_TARGETS = Symbol('InferenceTargets');

/** What ServerMetadata and `GET /v2` answer. */
export interface InferenceServerInfo {
  name: string;
  version: string;
  /** Protocol extensions supported. */
  extensions: readonly string[];
}

/** The Nest injection token of the `InferenceServerInfo`. */
export const INFERENCE_SERVER_INFO = Symbol('InferenceServerInfo');

/** The gRPC metadata key and HTTP header that return an inference request's id, as the response's `id` does. */
export const REQUEST_ID_HEADER = 'trellis-request-id';

/** One inference call that reached a target's model, as the handlers report it. */
export interface ObservedInference {
  target: InferenceTarget;
  requestId: string;
  inputs: readonly Tensor[];
  /** The outputs returned; undefined when the model failed. */
  outputs: readonly Tensor[] | undefined;
  /** From handing the inputs to the target to its answer, in milliseconds. */
  latencyMs: number;
}

/**
 * Told of every inference call that reached a model (metrics, prediction logs), after it is
 * answered. `observe` runs on the request's path: it must be synchronous and cheap, and never throw.
 */
export interface InferenceObserver {
  observe(call: ObservedInference): void;
}

/** The Nest injection token of the `InferenceObserver` the handlers report to, if any. */
export const INFERENCE_OBSERVER = Symbol('InferenceObserver');
