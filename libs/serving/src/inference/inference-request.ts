import { excerpt, InvalidArgumentError } from '@trellis/platform';
import type { ModelSignature, Tensor, TensorSpec } from '@trellis/plugin-sdk';
import type { InferenceObserver, InferenceTarget, InferOptions } from './inference-targets';
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

/**
 * Checks the inputs a request declares against the model's signature and returns their headers,
 * in the request's order: every model input exactly once and nothing else, each of the model's
 * datatype, each shape of the model's rank with every dimension the model fixes (-1 takes any
 * size). INVALID_ARGUMENT naming the input, echoing at most a short prefix of what was sent.
 */
export function checkInputs(inputs: readonly DeclaredInput[], signature: ModelSignature): TensorHeader[] {
  const specs = new Map(signature.inputs.map((spec) => [spec.name, spec]));
  const seen = new Set<string>();
  const headers = inputs.map((input) => {
    const spec = specs.get(input.name);
    if (!spec) throw new InvalidArgumentError(`input ${quoted(input.name)} is not an input of the model; it takes ${listed(signature.inputs)}`);
    if (seen.has(input.name)) throw new InvalidArgumentError(`input ${quoted(input.name)} appears more than once`);
    seen.add(input.name);
    if (input.datatype !== spec.datatype) {
      const known = isDatatype(input.datatype) ? input.datatype : `unknown datatype ${quoted(input.datatype)}`;
      throw new InvalidArgumentError(`input ${quoted(input.name)} is ${spec.datatype}, got ${known}`);
    }
    return { name: spec.name, datatype: spec.datatype, shape: checkShape(input, spec) };
  });
  const missing = signature.inputs.filter((spec) => !seen.has(spec.name));
  if (missing.length > 0) throw new InvalidArgumentError(`the model needs input ${listed(missing)}, missing from the request`);
  return headers;
}

function checkShape(input: DeclaredInput, spec: TensorSpec): number[] {
  const want = `[${spec.shape.join(', ')}]`;
  const got = `[${input.shape.slice(0, spec.shape.length + 1).join(', ')}${input.shape.length > spec.shape.length + 1 ? ', ...' : ''}]`;
  if (input.shape.length !== spec.shape.length) throw new InvalidArgumentError(`input ${quoted(input.name)} has shape ${want}, got ${got}`);
  return input.shape.map((dim, index) => {
    const size = Number(dim);
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidArgumentError(`input ${quoted(input.name)}: dimension ${index} of shape ${got} must be a whole number, 0 or more`);
    if (spec.shape[index] !== -1 && spec.shape[index] !== size) throw new InvalidArgumentError(`input ${quoted(input.name)} has shape ${want}, got ${got}`);
    return size;
  });
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

/**
 * Runs checked tensors through a target and returns the outputs asked for, in the order asked
 * (all, in the model's order, when none were asked for). `observer` is told of the call once
 * the model answered or failed, with every output.
 */
export async function runInference(
  target: InferenceTarget,
  inputs: readonly Tensor[],
  outputs: readonly string[] | undefined,
  options: InferOptions,
  observer?: InferenceObserver,
): Promise<Tensor[]> {
  const started = performance.now();
  let results: Tensor[];
  try {
    results = await target.infer(inputs, options);
  } catch (error) {
    observer?.observe({ target, requestId: options.requestId, inputs, outputs: undefined, latencyMs: performance.now() - started });
    throw error;
  }
  observer?.observe({ target, requestId: options.requestId, inputs, outputs: results, latencyMs: performance.now() - started });
  if (!outputs) return results;
  const byName = new Map(results.map((tensor) => [tensor.name, tensor]));
  return outputs.map((name) => {
    const tensor = byName.get(name);
    // The signature promised it: a runtime that leaves it out is the server's fault.
    if (!tensor) throw new Error(`the model declares output ${JSON.stringify(name)} but its runtime did not return it`);
    return tensor;
  });
}
