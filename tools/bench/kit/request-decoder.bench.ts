// What the kit's request decoder costs per small request, in one run: requestDecoder (size check,
// decode, limits checked by withinLimitsCheck, protovalidate only for a message it cannot vouch
// for) against fromBinary followed by protovalidate on every message (what the decoder did before
// withinLimitsCheck) and a bare fromBinary, for an OIP ModelInfer of one 10-feature row, a GetRun
// and a LogBatch of 100 metrics. Arms alternate within each round; prints the median ns per request.
// Run: node tools/bench/run.cjs tools/bench/kit/request-decoder.bench.ts
// Env: BENCH_ROUNDS (9), BENCH_CALLS (decodes per arm and round, 20000).
import { create, fromBinary, toBinary, type DescMethod, type MessageInitShape } from '@bufbuild/protobuf';
import { createValidator } from '@bufbuild/protovalidate';
import { requestDecoder } from '@trellis/platform';
import { GRPCInferenceServiceDesc, RunService } from '@trellis/proto';
import { cpus, loadavg } from 'node:os';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);

function encoded<M extends DescMethod>(method: M, request: MessageInitShape<M['input']>): Buffer {
  return Buffer.from(toBinary(method.input, create(method.input, request)));
}

const { modelInfer } = GRPCInferenceServiceDesc.method;
const { getRun, logBatch } = RunService.method;
const cases: Array<[string, DescMethod, Buffer]> = [
  ['ModelInfer, one row of 10 FP32 features as raw bytes', modelInfer, encoded(modelInfer, { modelName: 'mlp', inputs: [{ name: 'input', datatype: 'FP32', shape: [1n, 10n] }], rawInputContents: [new Uint8Array(40)] })],
  ['GetRun, a 32-character id', getRun, encoded(getRun, { runId: 'a'.repeat(32) })],
  ['LogBatch, 100 metrics', logBatch, encoded(logBatch, { runId: 'a'.repeat(32), metrics: Array.from({ length: 100 }, (_, i) => ({ key: `loss_${i % 10}`, value: i, timestampMs: 1n, step: BigInt(i) })) })],
];

const validator = createValidator();

/** Nanoseconds per call of `decode`, over CALLS calls. */
function nsPerCall(decode: () => unknown): number {
  const started = process.hrtime.bigint();
  for (let call = 0; call < CALLS; call++) decode();
  return Number(process.hrtime.bigint() - started) / CALLS;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const loads = [loadavg()[0]];
console.log(`request decoder: ${ROUNDS} rounds of ${CALLS} decodes per arm, medians; ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), node ${process.version}`);
console.log(`${'request'.padEnd(54)} ${'bytes'.padStart(6)}  fromBinary  + protovalidate  requestDecoder  decoder/(fromBinary + protovalidate)`);
for (const [name, method, bytes] of cases) {
  const decoder = requestDecoder(method);
  const arms: Record<string, () => unknown> = {
    bare: () => fromBinary(method.input, bytes),
    validated: () => validator.validate(method.input, fromBinary(method.input, bytes)),
    decoder: () => decoder(bytes),
  };
  const times: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const order = Object.keys(arms);
    for (const arm of round % 2 === 0 ? order : order.reverse()) (times[arm] ??= []).push(nsPerCall(arms[arm]));
  }
  const [bare, validated, decoded] = ['bare', 'validated', 'decoder'].map((arm) => median(times[arm]));
  console.log(`${name.padEnd(54)} ${String(bytes.length).padStart(6)}  ${`${bare.toFixed(0)} ns`.padStart(10)}  ${`${validated.toFixed(0)} ns`.padStart(14)}  ${`${decoded.toFixed(0)} ns`.padStart(14)}  ${(decoded / validated).toFixed(2)}`);
  loads.push(loadavg()[0]);
}
console.log(`load average (1 min) at the start and after each request: ${loads.map((load) => load.toFixed(1)).join(' ')}`);
