// The kit's wire writer on the messages services write with it, against protobuf-es building and
// encoding the same messages (create + toBinary), in one process, alternating:
//   SearchRuns page       a page of 1000 runs (20 params, 10 metrics, 3 tags each), as tracking answers runs/search;
//   GetMetricSeries       one series of 20,000 points as packed columns (MLflow's get-history);
//   GetSampledMetricSeries 10 runs x 2500 points (get-history-bulk-interval);
//   LogBatch from JSON    1000 points of a parsed MLflow log-batch body, as the gateway forwards it.
// Each figure is the whole response's bytes as the gRPC transport gets them (the response's
// toBinary included), per message; BENCH_ROUNDS rounds (default 15), medians.
// Run: node tools/bench/run.cjs tools/bench/wire/wire.bench.ts
import { create, toBinary, type DescMessage } from '@bufbuild/protobuf';
import {
  GetMetricSeriesResponseSchema,
  GetSampledMetricSeriesResponseSchema,
  LogBatchRequestSchema,
  SearchRunsResponseSchema,
} from '@trellis/proto';
import { cpus, loadavg } from 'node:os';
import { logBatchRequest, metricOf } from '../../../libs/gateway/src/mlflow/metric-batch.encoding';
import { encodedColumns, encodedSampledSeries } from '../../../libs/tracking/src/metrics/metric-columns.encoding';
import { encodedRuns } from '../../../libs/tracking/src/runs/run.encoding';
import { runToProto } from '../../../libs/tracking/src/runs/run.mapping';
import { logBatchMetrics, sampledSeries, searchPage, series } from './wire-workloads';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

interface Workload {
  name: string;
  /** Calls per round: enough for a round to take tens of milliseconds. */
  calls: number;
  kit: () => Uint8Array;
  protobufEs: () => Uint8Array;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function encodedWith<Desc extends DescMessage>(schema: Desc, build: (message: ReturnType<typeof create<Desc>>) => void): Uint8Array {
  const message = create(schema);
  build(message);
  return toBinary(schema, message);
}

function workloads(): Workload[] {
  const page = searchPage();
  const points = series();
  const sampled = sampledSeries();
  const batch = logBatchMetrics();
  const columnsInit = (key: string, columns: typeof points) => ({
    key,
    steps: columns.steps.map(BigInt),
    timestampsMs: columns.timestampsMs.map(BigInt),
    values: columns.values,
  });
  return [
    {
      name: 'SearchRuns page (1000 runs)',
      calls: 5,
      kit: () => encodedWith(SearchRunsResponseSchema, (response) => (response.$unknown = encodedRuns(page))),
      protobufEs: () => toBinary(SearchRunsResponseSchema, create(SearchRunsResponseSchema, { runs: page.map(runToProto) })),
    },
    {
      name: 'GetMetricSeries (20,000 points)',
      calls: 10,
      kit: () => encodedWith(GetMetricSeriesResponseSchema, (response) => (response.$unknown = encodedColumns(GetMetricSeriesResponseSchema, 'loss', points))),
      protobufEs: () => toBinary(GetMetricSeriesResponseSchema, create(GetMetricSeriesResponseSchema, { points: columnsInit('loss', points) })),
    },
    {
      name: 'GetSampledMetricSeries (10 x 2500)',
      calls: 10,
      kit: () => encodedWith(GetSampledMetricSeriesResponseSchema, (response) => (response.$unknown = encodedSampledSeries('loss', sampled))),
      protobufEs: () =>
        toBinary(
          GetSampledMetricSeriesResponseSchema,
          create(GetSampledMetricSeriesResponseSchema, {
            series: sampled.map(({ runId, points: columns, totalPoints }) => ({ runId, points: columnsInit('loss', columns), totalPoints: BigInt(totalPoints) })),
          }),
        ),
    },
    {
      name: 'LogBatch from JSON (1000 points)',
      calls: 50,
      kit: () => toBinary(LogBatchRequestSchema, logBatchRequest('0123456789abcdef0123456789abcdef', batch, [], [])),
      protobufEs: () =>
        toBinary(LogBatchRequestSchema, create(LogBatchRequestSchema, { runId: '0123456789abcdef0123456789abcdef', metrics: batch.map((point, i) => metricOf(point, `metrics[${i}]`)) })),
    },
  ];
}

/** Milliseconds per call of `work`, over `calls` calls. */
function perCall(work: () => Uint8Array, calls: number): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) work();
  return Number(process.hrtime.bigint() - started) / 1e6 / calls;
}

function main(): void {
  console.log('wire writer vs protobuf-es (create + toBinary), bytes of the whole response, per message');
  console.log(`  node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}, load average ${loadavg()[0].toFixed(1)} at start; ${ROUNDS} rounds after 3 warm-up, alternating; medians`);
  for (const workload of workloads()) {
    const kitBytes = Buffer.from(workload.kit());
    if (!kitBytes.equals(Buffer.from(workload.protobufEs()))) throw new Error(`${workload.name}: the bytes differ`);
    for (let i = 0; i < 3; i++) {
      perCall(workload.kit, workload.calls);
      perCall(workload.protobufEs, workload.calls);
    }
    const kit: number[] = [];
    const reference: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      kit.push(perCall(workload.kit, workload.calls));
      reference.push(perCall(workload.protobufEs, workload.calls));
    }
    console.log(
      `  ${workload.name.padEnd(36)} ${(kitBytes.length / 1e3).toFixed(0).padStart(5)} kB  kit ${median(kit).toFixed(2).padStart(7)} ms  protobuf-es ${median(reference).toFixed(2).padStart(7)} ms  ${(median(reference) / median(kit)).toFixed(1)}x`,
    );
  }
}

main();
