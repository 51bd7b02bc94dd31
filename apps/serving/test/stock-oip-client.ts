import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..', '..');
// Debian's interpreter, which sees python3-grpcio and python3-grpc-tools (tools/services/ensure-services.sh installs them).
const PYTHON = '/usr/bin/python3';

/** A tensor's description as the client read it. */
export interface TensorDescription {
  name: string;
  datatype: string;
  shape: number[];
}

/** What the stock client printed. */
export interface StockClientAnswer {
  live: boolean;
  ready: boolean;
  metadata: { name: string; versions: string[]; platform: string; inputs: TensorDescription[]; outputs: TensorDescription[] };
  infer: {
    model_name: string;
    model_version: string;
    id: string;
    output: TensorDescription & { data: number[] };
    revision: string | null;
    request_id: string | null;
  };
}

/**
 * Generates Python stubs of `proto/inference/grpc_predict_v2.proto` (and the options it imports)
 * under `out` with `grpc_tools.protoc`, as a user compiles KServe's proto.
 */
export async function generateOipStubs(out: string): Promise<void> {
  const files = ['inference/grpc_predict_v2.proto', 'buf/validate/validate.proto', 'trellis/options/v1/options.proto'];
  await promisify(execFile)(PYTHON, ['-m', 'grpc_tools.protoc', '-I', 'proto', '-I', 'libs/proto/vendor', `--python_out=${out}`, `--grpc_python_out=${out}`, ...files], { cwd: ROOT });
}

/**
 * Runs test/stock_oip_client.py: it exchanges `apiKey` at the gateway for a token, then calls
 * `model` at serving's gRPC `address` with the stubs in `stubs` and infers `rows` (FP32) as request `id`.
 */
export async function runStockOipClient(options: { stubs: string; gateway: string; apiKey: string; address: string; model: string; id: string; rows: number[][] }): Promise<StockClientAnswer> {
  const { stubs, gateway, apiKey, address, model, id, rows } = options;
  const child = promisify(execFile)(PYTHON, [join(__dirname, 'stock_oip_client.py'), stubs, gateway, apiKey, address, model, id]);
  child.child.stdin?.end(JSON.stringify(rows));
  return JSON.parse((await child).stdout) as StockClientAnswer;
}
