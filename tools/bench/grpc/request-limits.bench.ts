// What the kit's request limits cost per request message: requestDecoder (size check, decode,
// buf.validate rules) against a bare fromBinary of the same bytes, for a small request, a full
// LogBatch, a LogInputs at its limits (16 MiB profile, 1 MiB schema), a 4 MiB id (refused by its
// rule) and a request over its method's size (refused undecoded). Prints the median of each.
import { create, fromBinary, toBinary, type DescMethod, type MessageInitShape } from '@bufbuild/protobuf';
import { requestDecoder } from '@trellis/platform';
import { RunService } from '@trellis/proto';
import { cpus } from 'node:os';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

function encoded<M extends DescMethod>(method: M, request: MessageInitShape<M['input']>): Buffer {
  return Buffer.from(toBinary(method.input, create(method.input, request)));
}

function medianMs(work: () => unknown): number {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    work();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const { getRun, logBatch, logInputs } = RunService.method;
const cases: Array<[string, DescMethod, Buffer]> = [
  ['GetRun, a 32-character id', getRun, encoded(getRun, { runId: 'a'.repeat(32) })],
  [
    'LogBatch, 1000 metrics, 100 params of 6000, 100 tags of 8000 characters',
    logBatch,
    encoded(logBatch, {
      runId: 'a'.repeat(32),
      metrics: Array.from({ length: 1000 }, (_, i) => ({ key: `loss_${i % 10}`, value: i, timestampMs: 1n, step: BigInt(i) })),
      params: Array.from({ length: 100 }, (_, i) => ({ key: `p${i}`, value: 'v'.repeat(6000) })),
      tags: Array.from({ length: 100 }, (_, i) => ({ key: `t${i}`, value: 'v'.repeat(8000) })),
    }),
  ],
  [
    'LogInputs, a 16 MiB profile and a 1 MiB schema',
    logInputs,
    encoded(logInputs, { runId: 'a'.repeat(32), datasets: [{ dataset: { name: 'd', digest: 'x', sourceType: 'local', source: '{}', schema: 's'.repeat(1_048_575), profile: 'p'.repeat(16_777_215) } }] }),
  ],
  ['GetRun, a 4 MiB id (refused by its rule)', getRun, encoded(getRun, { runId: 'a'.repeat(4 * 1024 * 1024 - 16) })],
  ['GetRun, over 4 MiB (refused undecoded)', getRun, encoded(getRun, { runId: 'a'.repeat(4 * 1024 * 1024) })],
];

console.log(`request limits: median of ${ROUNDS} rounds, node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'})`);
for (const [name, method, bytes] of cases) {
  const decode = requestDecoder(method);
  const limited = medianMs(() => decode(bytes));
  const bare = medianMs(() => fromBinary(method.input, bytes));
  console.log(`  ${name.padEnd(76)} ${(bytes.length / 1024).toFixed(0).padStart(7)} KiB  limits ${limited.toFixed(2).padStart(8)} ms  bare decode ${bare.toFixed(2).padStart(8)} ms`);
}
