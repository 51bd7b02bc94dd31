// runtime-onnx against a bare onnxruntime-node session, in one run: the 10-feature MLP of the
// plugin's specs (MatMul+Add+Relu+MatMul+Add, 10-8-3), one row per call.
// - in-process: InferenceSession.run at batch 1 in this thread, one call at a time;
// - the plugin as serving runs it: loaded by module path in a worker thread (loadPluginInWorker),
//   each call crossing to the worker and back;
// median latency of one call at a time, and calls/s with IN_FLIGHT calls in flight (closed loop):
// - batching off (maxBatchSize 1): every call crosses alone;
// - batching on (maxBatchSize IN_FLIGHT, maxQueueDelayMs 0), before the hop, as serving loads a
//   model: calls gathered in this thread cross as one message of stacked rows (runtime-onnx
//   declares batchesAlongFirstDimension);
// - batching on after the hop, for comparison: the same batching as the instance's default, the
//   model loaded without batching options, so each call crosses alone and the worker gathers them.
// Rounds alternate the ways; figures are medians over rounds.
// Run: node tools/bench/run.cjs tools/bench/serving/onnx.bench.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedModel, Tensor } from '@trellis/plugin-sdk';
import { loadPluginInWorker } from '@trellis/plugin-sdk/testing';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { buildForWorker } from '../../../plugins/runtime-onnx/test/build-for-worker';
import { FEATURES, featureRows, writeModel } from '../../../plugins/runtime-onnx/test/models';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LATENCY_CALLS = Number(process.env.BENCH_LATENCY_CALLS ?? 2000);
const THROUGHPUT_CALLS = Number(process.env.BENCH_THROUGHPUT_CALLS ?? 20_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);

const rows = featureRows(256);
const input = (i: number): Tensor => ({ name: 'x', datatype: 'FP32', shape: [1, FEATURES], data: new Float32Array(rows[i % rows.length]) });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Median microseconds of `call`, made `count` times one after another. */
async function latency(count: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const took: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await call(i);
    took.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return median(took);
}

/** Calls per second of `call` with `inFlight` callers, each starting its next call when its last one answers. */
async function throughput(count: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Mean rows per run of `model` over `work`. */
async function meanBatch(model: LoadedModel, work: () => Promise<unknown>): Promise<number> {
  if (!model.stats) throw new Error('runtime-onnx reports no stats');
  const before = await model.stats();
  await work();
  const after = await model.stats();
  return (after.requests - before.requests) / (after.runs - before.runs);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'onnx-bench-'));
  try {
    const path = await writeModel('mlp', join(dir, 'mlp.onnx'));
    const session = await InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const bare = (i: number) => session.run({ x: new OrtTensor('float32', new Float32Array(rows[i % rows.length]), [1, FEATURES]) });
    const batching = { maxBatchSize: IN_FLIGHT, maxQueueDelayMs: 0 };
    const runtime = await loadPluginInWorker(await buildForWorker(join(__dirname, '../../../plugins/runtime-onnx/src'), join(dir, 'build')), { config: { batching } });
    const batched = await runtime.load(path, 'onnx', { batching });
    const batchedInWorker = await runtime.load(path, 'onnx');
    const unbatched = await runtime.load(path, 'onnx', { batching: { maxBatchSize: 1, maxQueueDelayMs: 0 } });
    const through = (model: LoadedModel) => (i: number) => model.infer([input(i)]);

    // Warm-up: the first runs of a session and of the worker's code paths are slower.
    await latency(500, bare);
    await latency(500, through(unbatched));
    await throughput(2000, IN_FLIGHT, through(batched));
    await throughput(2000, IN_FLIGHT, through(batchedInWorker));

    const figures: Record<string, number[]> = { bareLatency: [], pluginLatency: [], bareRate: [], batchedRate: [], unbatchedRate: [], batchRows: [], inWorkerRate: [], inWorkerRows: [] };
    for (let round = 0; round < ROUNDS; round++) {
      figures.bareLatency.push(await latency(LATENCY_CALLS, bare));
      figures.pluginLatency.push(await latency(LATENCY_CALLS, through(unbatched)));
      figures.bareRate.push(await throughput(THROUGHPUT_CALLS, 1, bare));
      figures.unbatchedRate.push(await throughput(THROUGHPUT_CALLS, IN_FLIGHT, through(unbatched)));
      figures.batchRows.push(await meanBatch(batched, async () => figures.batchedRate.push(await throughput(THROUGHPUT_CALLS, IN_FLIGHT, through(batched)))));
      figures.inWorkerRows.push(await meanBatch(batchedInWorker, async () => figures.inWorkerRate.push(await throughput(THROUGHPUT_CALLS, IN_FLIGHT, through(batchedInWorker)))));
    }
    await runtime.close();
    await session.release();

    const m = Object.fromEntries(Object.entries(figures).map(([name, values]) => [name, median(values)]));
    const range = (values: number[]) => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))}`;
    console.log(`runtime-onnx bench: ${ROUNDS} rounds, ${LATENCY_CALLS} calls for latency, ${THROUGHPUT_CALLS} for throughput; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}`);
    console.log(`median latency, batch 1, one at a time   in-process ${m.bareLatency.toFixed(1)} us   plugin in a worker ${m.pluginLatency.toFixed(1)} us   (+${(m.pluginLatency - m.bareLatency).toFixed(1)} us)`);
    console.log(`calls/s, in-process, one at a time       ${Math.round(m.bareRate)} (rounds ${range(figures.bareRate)})`);
    console.log(`calls/s, plugin, ${IN_FLIGHT} in flight, batching off ${Math.round(m.unbatchedRate)} (rounds ${range(figures.unbatchedRate)})`);
    console.log(`calls/s, plugin, ${IN_FLIGHT} in flight, batching on  ${Math.round(m.batchedRate)} (rounds ${range(figures.batchedRate)}), ${m.batchRows.toFixed(1)} rows per run, gathered before the hop`);
    console.log(`calls/s, plugin, ${IN_FLIGHT} in flight, batching on  ${Math.round(m.inWorkerRate)} (rounds ${range(figures.inWorkerRate)}), ${m.inWorkerRows.toFixed(1)} rows per run, gathered in the worker`);
    console.log(`batching on / off: ${(m.batchedRate / m.unbatchedRate).toFixed(2)}x before the hop, ${(m.inWorkerRate / m.unbatchedRate).toFixed(2)}x in the worker`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
