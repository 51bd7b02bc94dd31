import { excerpt, InvalidArgumentError } from '@trellis/platform';
import type { ModelSignature, Tensor, TensorSpec } from '@trellis/plugin-sdk';
import type { InferenceObserver, InferenceTarget } from './inference-targets';
import { isDatatype } from './tensor-datatypes';
import type { TensorHeader } from './tensor.codec';

/** How much of a name or datatype a caller sent an error message echoes. */
const ECHO = 64;
/** How many of the model's tensor names an error lists. */
const LISTED = 8;

/** An input as a request declares it, before its data. */
export interface DeclaredInput {
  name: string;
  datatype: string;
  shape: readonly (number | bigint)[];
}

const quoted = (name: string) => JSON.stringify(excerpt(name, ECHO));

function listed(specs: readonly TensorSpec[]): string {
  const names = specs.slice(0, LISTED).map((spec) => JSON.stringify(spec.name));
  return specs.length > LISTED ? `${names.join(', ')} and ${specs.length - LISTED} more` : names.join(', ');
}

/** The model's inputs by name, worked out once per signature (a loaded revision keeps its signature). */
const inputSpecs = new WeakMap<ModelSignature, ReadonlyMap<string, TensorSpec>>();

function inputSpecsOf(signature: ModelSignature): ReadonlyMap<string, TensorSpec> {
  let specs = inputSpecs.get(signature);
  if (!specs) {
    specs = new Map(signature.inputs.map((spec) => [spec.name, spec]));
    inputSpecs.set(signature, specs);
  }
  return specs;
}

/**
 * Checks the inputs a request declares against the model's signature and returns their headers,
 * in the request's order: every model input exactly once and nothing else, each of the model's
 * datatype, each shape of the model's rank with every dimension the model fixes (-1 takes any
 * size). INVALID_ARGUMENT naming the input, echoing at most a short prefix of what was sent.
 */
export function checkInputs(inputs: readonly DeclaredInput[], signature: ModelSignature): TensorHeader[] {
  const specs = inputSpecsOf(signature);
  const seen = inputs.length > 1 ? new Set<string>() : undefined;
  const headers: TensorHeader[] = [];
  for (const input of inputs) {
    const spec = specs.get(input.name);
    if (!spec) throw new InvalidArgumentError(`input ${quoted(input.name)} is not an input of the model; it takes ${listed(signature.inputs)}`);
    if (seen?.has(input.name)) throw new InvalidArgumentError(`input ${quoted(input.name)} appears more than once`);
    seen?.add(input.name);
    if (input.datatype !== spec.datatype) {
      const known = isDatatype(input.datatype) ? input.datatype : `unknown datatype ${quoted(input.datatype)}`;
      throw new InvalidArgumentError(`input ${quoted(input.name)} is ${spec.datatype}, got ${known}`);
    }
    headers.push({ name: spec.name, datatype: spec.datatype, shape: checkShape(input, spec) });
  }
  // Each input named a distinct model input: any left out makes the count fall short.
  if (inputs.length < specs.size) {
    const named = new Set(inputs.map((input) => input.name));
    throw new InvalidArgumentError(`the model needs input ${listed(signature.inputs.filter((spec) => !named.has(spec.name)))}, missing from the request`);
  }
  return headers;
}

function checkShape(input: DeclaredInput, spec: TensorSpec): number[] {
  if (input.shape.length !== spec.shape.length) throw shapeError(input, spec);
  const dims: number[] = [];
  for (let index = 0; index < input.shape.length; index++) {
    const size = Number(input.shape[index]);
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError(`input ${quoted(input.name)}: dimension ${index} of shape ${sentShape(input, spec)} must be a whole number, 0 or more`);
    if (spec.shape[index] !== -1 && spec.shape[index] !== size) throw shapeError(input, spec);
    dims.push(size);
  }
  return dims;
}

/** The shape a request sent, as errors echo it: at most one dimension past the model's rank. */
function sentShape(input: DeclaredInput, spec: TensorSpec): string {
  return `[${input.shape.slice(0, spec.shape.length + 1).join(', ')}${input.shape.length > spec.shape.length + 1 ? ', ...' : ''}]`;
}

function shapeError(input: DeclaredInput, spec: TensorSpec): InvalidArgumentError {
  return new InvalidArgumentError(`input ${quoted(input.name)} has shape [${spec.shape.join(', ')}], got ${sentShape(input, spec)}`);
}

/**
 * The names of the outputs a request asks for, each an output of the model and asked once;
 * undefined when it asks for none (every output). INVALID_ARGUMENT naming the output otherwise.
 */
export function checkRequestedOutputs(names: readonly string[], signature: ModelSignature): string[] | undefined {
  if (names.length === 0) return undefined;
  const known = new Set(signature.outputs.map((spec) => spec.name));
  const seen = new Set<string>();
  for (const name of names) {
    if (!known.has(name)) throw new InvalidArgumentError(`output ${quoted(name)} is not an output of the model; it has ${listed(signature.outputs)}`);
    if (seen.has(name)) throw new InvalidArgumentError(`output ${quoted(name)} is requested more than once`);
    seen.add(name);
  }
  return [...names];
}

/** What tells that a request's caller went away: a gRPC call's `cancelled`, an HTTP request's socket's `close`. */
export interface CallerGone {
  source: { once(event: string, listener: () => void): unknown; off(event: string, listener: () => void): unknown };
  event: string;
}

/**
 * Runs checked tensors through a target and returns the outputs asked for, in the order asked
 * (all, in the model's order, when none were asked for). The model's run is aborted if `gone`
 * fires before it answers; not after (grpc-js reports every call `cancelled` once its stream
 * closes, answered or not). `observer` is told of the call once the model answered or failed,
 * with every output.
 */
export async function runInference(
  target: InferenceTarget,
  inputs: readonly Tensor[],
  outputs: readonly string[] | undefined,
  requestId: string,
  gone?: CallerGone,
  observer?: InferenceObserver,
): Promise<Tensor[]> {
  const aborted = new AbortController();
  const abort = () => aborted.abort();
  gone?.source.once(gone.event, abort);
  const started = performance.now();
  let results: Tensor[];
  try {
    results = await target.infer(inputs, { requestId, signal: aborted.signal });
  } catch (error) {
    observer?.observe({ target, requestId, inputs, outputs: undefined, latencyMs: performance.now() - started });
    throw error;
  } finally {
    gone?.source.off(gone.event, abort);
  }
  observer?.observe({ target, requestId, inputs, outputs: results, latencyMs: performance.now() - started });
  if (!outputs) return results;
  const byName = new Map(results.map((tensor) => [tensor.name, tensor]));
  return outputs.map((name) => {
    const tensor = byName.get(name);
    // The signature promised it: a runtime that leaves it out is the server's fault.
    if (!tensor) throw new Error(`the model declares output ${JSON.stringify(name)} but its runtime did not return it`);
    return tensor;
  });
}
