import { GatewayRequestError } from '@trellis/client';
import { readFileSync } from 'node:fs';
import { CliError, EXIT } from '../exit-codes';

/** An Open Inference Protocol tensor as JSON carries it. */
export interface OipTensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** The most of a request file the CLI reads: the gateway refuses an infer body over 64 MiB. */
const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** The request file (`-` for standard input): an OIP request, `{"inputs": [{name, datatype, shape, data}], ...}`. */
export function readInferRequest(path: string): { inputs: OipTensor[] } {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read --input ${path.slice(0, 200)}: ${(error as Error).message}`, EXIT.usage);
  }
  if (text.length > MAX_INPUT_BYTES) throw new CliError('--input is over 64 MiB, the most one inference request may carry: split it into several', EXIT.invalidArgument);
  let request: { inputs?: unknown };
  try {
    request = JSON.parse(text) as { inputs?: unknown };
  } catch (error) {
    throw new CliError(`--input is not JSON: ${(error as Error).message.slice(0, 200)}`, EXIT.invalidArgument);
  }
  const inputs = request?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every(isTensor)) {
    throw new CliError('--input must be {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [...]}]}, as the Open Inference Protocol asks', EXIT.invalidArgument);
  }
  return request as { inputs: OipTensor[] };
}

function isTensor(value: unknown): value is OipTensor {
  const tensor = value as Partial<OipTensor> | null;
  return typeof tensor?.name === 'string' && typeof tensor.datatype === 'string' && Array.isArray(tensor.shape) && Array.isArray(tensor.data);
}

/** An OIP refusal (`HTTP 400: {"error": "..."}`) as its error's own words, with what to check. */
export function inferenceFailure(error: unknown, endpoint: string): unknown {
  if (!(error instanceof GatewayRequestError) || error.httpStatus === 0) return error;
  const body = /^HTTP \d+: (\{.*\})$/s.exec(error.message)?.[1];
  let said = error.message;
  try {
    said = body ? String((JSON.parse(body) as { error?: unknown }).error ?? said) : said;
  } catch {
    // Not the protocol's JSON: keep the text as it came.
  }
  const hint = error.httpStatus === 400 ? ` (the model's metadata, GET /v2/models/${endpoint}, lists the inputs it takes)` : '';
  return new GatewayRequestError(`${said.slice(0, 500)}${hint}`, error.httpStatus, error.status, error.reason, error.requestId);
}
