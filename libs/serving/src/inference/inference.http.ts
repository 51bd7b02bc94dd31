import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { status } from '@grpc/grpc-js';
import { type Caller, DomainError, excerpt, InvalidArgumentError, ResourceExhaustedError } from '@trellis/platform';
import type { Tensor } from '@trellis/plugin-sdk';
import { checkInputs, checkRequestedOutputs, runInference, type DeclaredInput } from './inference-request';
import { PROJECT_HEADER, REQUEST_ID_HEADER, REVISION_HEADER, type InferenceObserver, type InferenceServerInfo, type InferenceTarget, type InferenceTargets, type TargetRequest } from './inference-targets';
import { ModelRunError } from './model-run.error';
import { tensorFromJson, tensorToJsonText } from './tensor.codec';

/** Largest REST request body by default, as ModelInfer's largest gRPC request. */
export const DEFAULT_MAX_INFER_BODY_BYTES = 64 * 1024 * 1024;

/** The request limits the REST API shares with the gRPC contract's field rules. */
const LIMITS = { tensors: 256, rank: 64, name: 256, datatype: 16, id: 256 };

/** What the Open Inference Protocol's REST routes serve, and how. */
export interface InferenceHttpOptions {
  targets: InferenceTargets;
  info: InferenceServerInfo;
  /** Largest request body in bytes; a larger one is answered 413 unread (default 64 MiB). */
  maxBodyBytes?: number;
  /**
   * Admits a request to any route but `/v2/health/*`, returning its caller (whom `resolve` is
   * given), or throws a DomainError (UNAUTHENTICATED, PERMISSION_DENIED) that answers it. Without
   * it every request is admitted.
   */
  authenticate?: (request: IncomingMessage, model: TargetRequest | undefined) => Caller | void | Promise<Caller | void>;
  /** Told of every inference call that reached a model (metrics, prediction logs). */
  observer?: InferenceObserver;
  /** Told of an error that is not a DomainError, which is answered 500 without its text. */
  onUnexpectedError?: (error: unknown) => void;
}

/** One REST answer. */
interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

const json = (statusCode: number, body: unknown): Answer => ({ status: statusCode, body: JSON.stringify(body) });
const errorAnswer = (statusCode: number, message: string): Answer => json(statusCode, { error: message });

/** A body over the limit: RESOURCE_EXHAUSTED, answered 413 rather than 429. */
class BodyTooLargeError extends ResourceExhaustedError {}

/** HTTP status of the gRPC codes a DomainError carries, as KServe and grpc-gateway answer them. */
function httpStatusOf(error: DomainError): number {
  switch (error.code) {
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE:
      return 400;
    case status.UNAUTHENTICATED:
      return 401;
    case status.PERMISSION_DENIED:
      return 403;
    case status.NOT_FOUND:
      return 404;
    case status.ALREADY_EXISTS:
      return 409;
    case status.RESOURCE_EXHAUSTED:
      return error instanceof BodyTooLargeError ? 413 : 429;
    case status.UNAVAILABLE:
      return 503;
    case status.DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

/** A route of `/v2`: what it does and for which model. */
type Route =
  | { kind: 'live' | 'ready' | 'server' }
  | { kind: 'model' | 'model-ready' | 'infer'; model: TargetRequest };

/** The route of a method and path, or the answer for a path or method that has none. */
function routeOf(method: string, path: string): Route | Answer {
  const segments = path.split('/').slice(1);
  if (segments[0] !== 'v2') return errorAnswer(404, 'not found');
  const get = (route: Route): Route | Answer => (method === 'GET' ? route : { ...errorAnswer(405, `${method} is not allowed here; use GET`), headers: { allow: 'GET' } });
  const post = (route: Route): Route | Answer => (method === 'POST' ? route : { ...errorAnswer(405, `${method} is not allowed here; use POST`), headers: { allow: 'POST' } });
  if (segments.length === 1) return get({ kind: 'server' });
  if (segments[1] === 'health' && segments.length === 3 && (segments[2] === 'live' || segments[2] === 'ready')) return get({ kind: segments[2] });
  if (segments[1] !== 'models' || segments.length < 3 || segments[2] === '') return errorAnswer(404, 'not found');
  let rest = segments.slice(3);
  let version: string | undefined;
  if (rest[0] === 'versions' && rest.length >= 2 && rest[1] !== '') {
    version = decodeURIComponent(rest[1]);
    rest = rest.slice(2);
  }
  const model = { model: decodeURIComponent(segments[2]), version };
  if (rest.length === 0) return get({ kind: 'model', model });
  if (rest.length === 1 && rest[0] === 'ready') return get({ kind: 'model-ready', model });
  if (rest.length === 1 && rest[0] === 'infer') return post({ kind: 'infer', model });
  return errorAnswer(404, 'not found');
}

/**
 * A `node:http` request listener for the Open Inference Protocol's REST API (KServe V2):
 * `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2`, `GET /v2/models/{name}[/versions/{v}]`,
 * its `/ready`, and `POST .../infer` with JSON tensors (`data` flat or nested). Errors answer
 * `{"error": "..."}`: 400 for a request that does not fit the model, naming the input; 404 for a
 * model nothing serves; 413 for a body over `maxBodyBytes`; 500 naming the revision (and with
 * its headers) for a model that failed on the request. The `trellis-revision` header pins a
 * revision, and names the one that answered.
 */
export function inferenceHttpHandler(options: InferenceHttpOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_INFER_BODY_BYTES;
  const answerOf = async (request: IncomingMessage): Promise<Answer> => {
    let route: Route | Answer;
    try {
      route = routeOf(request.method ?? 'GET', (request.url ?? '/').split('?', 1)[0]);
    } catch {
      return errorAnswer(400, 'the path has a malformed percent-encoding');
    }
    if ('status' in route) return route;
    if (route.kind === 'live') return { status: 200 };
    if (route.kind === 'ready') return (await options.targets.isReady()) ? { status: 200 } : errorAnswer(503, 'the server is not ready');
    if (!('model' in route)) {
      await options.authenticate?.(request, undefined);
      return json(200, { name: options.info.name, version: options.info.version, extensions: options.info.extensions });
    }
    const model = { ...route.model, revision: headerOf(request, REVISION_HEADER), project: headerOf(request, PROJECT_HEADER) };
    const caller = await options.authenticate?.(request, model);
    const target = await options.targets.resolve(caller ? { ...model, caller } : model);
    if (route.kind === 'model') return json(200, metadataOf(target));
    if (route.kind === 'model-ready') return target.isReady() ? { status: 200 } : errorAnswer(400, `model ${JSON.stringify(excerpt(target.name, 64))} is not ready`);
    return infer(target, request, maxBodyBytes, options.observer);
  };
  return (request, response) => {
    answerOf(request)
      .catch((error: unknown): Answer => {
        if (error instanceof ModelRunError) return { ...errorAnswer(500, error.message), headers: answerHeaders(error.requestId, error.revision) };
        if (error instanceof DomainError) return errorAnswer(httpStatusOf(error), error.message);
        options.onUnexpectedError?.(error);
        return errorAnswer(500, 'internal error');
      })
      .then((answer) => {
        const headers: Record<string, string | number> = { ...answer.headers };
        if (answer.body !== undefined) headers['content-type'] = 'application/json';
        // Sized, not chunked: writeHead fixes the headers before end() could measure the body.
        headers['content-length'] = answer.body === undefined ? 0 : Buffer.byteLength(answer.body);
        // A body left unread (refused, or too large) is not drained: the connection closes with the answer.
        if (!request.complete) headers.connection = 'close';
        response.writeHead(answer.status, headers).end(answer.body);
      });
  };
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function metadataOf(target: InferenceTarget) {
  return { name: target.name, versions: target.versions, platform: target.platform, inputs: target.signature.inputs, outputs: target.signature.outputs };
}

/** The request's body, refused once it passes `maxBytes`. Read with listeners: an async iterator costs a promise per chunk. */
function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (size: string) => new BodyTooLargeError(`the request body is ${size} bytes; this server takes at most ${maxBytes}`);
  const declared = Number(request.headers['content-length']);
  if (declared > maxBytes) return Promise.reject(tooLarge(String(declared)));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= maxBytes) return void chunks.push(chunk);
      settle();
      // Paused rather than drained: the answer closes the connection (the body was not read to its end).
      request.pause();
      reject(tooLarge(`over ${maxBytes}`));
    };
    const onEnd = () => (settle(), resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    const onError = (error: Error) => (settle(), reject(error));
    const settle = () => request.off('data', onData).off('end', onEnd).off('error', onError);
    request.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** Reads a `data`-carrying JSON request and answers it. */
async function infer(target: InferenceTarget, request: IncomingMessage, maxBodyBytes: number, observer: InferenceObserver | undefined): Promise<Answer> {
  if (request.headers['inference-header-content-length'] !== undefined) {
    throw new InvalidArgumentError('the binary tensor data extension is not supported: send data as JSON, or raw_input_contents over gRPC');
  }
  const body = parseInferBody(await readBody(request, maxBodyBytes));
  const headers = checkInputs(body.inputs, target.signature);
  const inputs = headers.map((header, index) => tensorFromJson(header, body.inputs[index].data));
  const outputs = checkRequestedOutputs(body.outputs, target.signature);
  const requestId = body.id ?? randomUUID();
  // A kept-alive socket carries many requests: each takes its listener off when it is answered.
  const tensors = await runInference(target, inputs, outputs, requestId, { source: request.socket, event: 'close' }, observer);
  return {
    status: 200,
    body: inferResponseText(target, requestId, tensors),
    headers: answerHeaders(requestId, target.revision),
  };
}

/** The headers naming the request and the revision that answered it, or failed on it. */
function answerHeaders(requestId: string, revision: string | undefined): Record<string, string> {
  return { [REQUEST_ID_HEADER]: requestId, ...(revision !== undefined && { [REVISION_HEADER]: revision }) };
}

/** The JSON text of an inference response; 64-bit integers stay exact. */
export function inferResponseText(target: Pick<InferenceTarget, 'name' | 'version'>, requestId: string, tensors: readonly Tensor[]): string {
  const head = JSON.stringify({ model_name: target.name, model_version: target.version, id: requestId });
  return `${head.slice(0, -1)},"outputs":[${tensors.map((tensor) => tensorToJsonText(tensor)).join(',')}]}`;
}

/** A REST inference request after its structure is checked. */
interface InferBody {
  id?: string;
  inputs: (DeclaredInput & { data: unknown })[];
  outputs: string[];
}

/** Checks the structure of an inference request body; INVALID_ARGUMENT naming the field. */
export function parseInferBody(bytes: Buffer): InferBody {
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidArgumentError('the request body is not JSON');
  }
  if (!isObject(body)) throw new InvalidArgumentError('the request body must be a JSON object');
  const id = optionalString(body.id, 'id', LIMITS.id);
  const inputs = list(body.inputs, 'inputs').map((input, index) => {
    const field = `inputs[${index}]`;
    if (!isObject(input)) throw new InvalidArgumentError('must be an object', field);
    const shape = list(input.shape, `${field}.shape`, LIMITS.rank);
    shape.forEach((dim, at) => {
      if (!Number.isSafeInteger(dim)) throw new InvalidArgumentError('must be a whole number', `${field}.shape[${at}]`);
    });
    if (input.data === undefined) throw new InvalidArgumentError('is required', `${field}.data`);
    return { name: requiredString(input.name, `${field}.name`, LIMITS.name), datatype: requiredString(input.datatype, `${field}.datatype`, LIMITS.datatype), shape: shape as number[], data: input.data };
  });
  const outputs = body.outputs === undefined ? [] : list(body.outputs, 'outputs').map((output, index) => {
    if (!isObject(output)) throw new InvalidArgumentError('must be an object', `outputs[${index}]`);
    return requiredString(output.name, `outputs[${index}].name`, LIMITS.name);
  });
  return { id, inputs, outputs };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown, field: string, maxItems = LIMITS.tensors): unknown[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError('must be an array', field);
  if (value.length > maxItems) throw new InvalidArgumentError(`must have at most ${maxItems} items`, field);
  return value;
}

function requiredString(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError('must be a non-empty string', field);
  if (value.length > maxLength) throw new InvalidArgumentError(`must be at most ${maxLength} characters`, field);
  return value;
}

function optionalString(value: unknown, field: string, maxLength: number): string | undefined {
  return value === undefined ? undefined : requiredString(value, field, maxLength);
}
