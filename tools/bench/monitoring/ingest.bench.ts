// Prediction-log ingest into one monitor of 10 numeric columns, standalone (SQLite), through the
// service's batched subscription as serving's logs reach it (issue 17, target at least 50,000
// rows/s): requests of one input tensor [rows, 10] FP32, packed as serving packs them (256
// predictions a PredictionsLoggedEvent), published with the in-process bus's publishBatch (40 packs
// a batch, as serving's BatchPublisher sends them with its default buffer) and consumed in batches
// of up to 64 packs, each batch one transaction holding the inbox rows and one packed chunk; each full tumbling window (--window rows, 10,000 by default) is closed in it and scored
// against the log-window reference (--reference rows, 5,000; --detector, the default policy's by
// default), with its results and window.closed event. Timed: from the first publish until the
// monitor's row count reaches the last row; the events are built and encoded beforehand, the
// reference filled untimed. Printed for requests of 1 row and of 32 rows (--sizes): rows/s and
// requests/s, median of --runs.
//
//   node tools/bench/run.cjs tools/bench/monitoring/ingest.bench.ts [--rows 200000] [--runs 3] [--window 10000] [--reference 5000] [--detector ks] [--sizes 1,32]
import 'reflect-metadata';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import { seededUniforms } from '@trellis/testing';
import { EventEnvelopeSchema, PredictionsLoggedEventSchema, type EventEnvelope, type PredictionLoggedEvent } from '@trellis/proto';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { monitoringService } from '../../../libs/monitoring/src';
import { MonitorEntity } from '../../../libs/monitoring/src/monitors/monitor.entity';
import driftStats from '../../../plugins/drift-stats/src/index';
import { argument, load, median } from './samples';

const COLUMNS = 10;
/** Predictions a pack (serving's predictionLogPackSize default). */
const PACK = 256;
/** Packs a publishBatch: serving's BatchPublisher's buffer of packs, 10,000 predictions / 256. */
const PUBLISH_BATCH = 40;
const TARGET = 50_000;
const rows = Number(argument('rows', '200000'));
const runs = Number(argument('runs', '3'));
const REFERENCE_ROWS = Number(argument('reference', '5000'));
const WINDOW_ROWS = Number(argument('window', '10000'));
const DETECTOR = argument('detector', '');
const SIZES = argument('sizes', '1,32').split(',').map(Number);

/** `count` rows of the endpoint's prediction log, `rowsPerEvent` a request, packed `PACK` requests an event, as encoded envelopes. */
function envelopes(endpoint: string, count: number, rowsPerEvent: number, seed: number): EventEnvelope[] {
  const random = seededUniforms(seed);
  const out: EventEnvelope[] = [];
  let pack: PredictionLoggedEvent[] = [];
  const ship = () => {
    const message = create(PredictionsLoggedEventSchema, { predictions: pack });
    out.push(create(EventEnvelopeSchema, { id: randomUUID(), subject: 'trellis.serving.v1.predictions.logged', payloadType: PredictionsLoggedEventSchema.typeName, payload: toBinary(PredictionsLoggedEventSchema, message) }));
    pack = [];
  };
  for (let at = 0; at < count; at += rowsPerEvent) {
    const n = Math.min(rowsPerEvent, count - at);
    const features = new Float32Array(n * COLUMNS);
    for (let i = 0; i < features.length; i++) features[i] = random();
    pack.push({
      $typeName: 'trellis.serving.v1.PredictionLoggedEvent',
      prediction: { $typeName: 'trellis.serving.v1.LoggedPrediction', requestId: randomUUID(), projectId: 'bench', endpointId: 'e1', endpointName: endpoint, revisionId: 'r1', answeredAt: timestampFromMs(Date.now()), latencyUs: 0n },
      inputs: [{ $typeName: 'trellis.serving.v1.LoggedTensor', name: 'features', datatype: 'FP32', shape: [BigInt(n), BigInt(COLUMNS)], rawContents: new Uint8Array(features.buffer), truncated: false }],
      outputs: [],
    });
    if (pack.length === PACK) ship();
  }
  if (pack.length > 0) ship();
  return out;
}

function chunked<T>(items: T[]): T[][] {
  return Array.from({ length: Math.ceil(items.length / PUBLISH_BATCH) }, (_, i) => items.slice(i * PUBLISH_BATCH, (i + 1) * PUBLISH_BATCH));
}

async function nextSeqOf(service: RunningService, monitorId: string): Promise<number> {
  const [row] = (await service.dataSource.query(`SELECT next_seq FROM monitor_streams WHERE monitor_id = '${monitorId}'`)) as Array<{ next_seq: number }>;
  return row ? Number(row.next_seq) : 1;
}

/** Feeds `events` to a fresh monitor of its own endpoint; returns seconds from the first publish to the last row consumed. */
async function ingest(platform: TestPlatform, service: RunningService, rowsPerEvent: number, run: number): Promise<number> {
  const endpoint = `bench-${rowsPerEvent}-${run}`;
  const monitorId = randomUUID();
  const now = Date.now();
  await service.dataSource.getRepository(MonitorEntity).insert({
    id: monitorId,
    projectId: 'bench',
    name: endpoint,
    description: '',
    creatorId: 'bench',
    createdAt: now,
    updatedAt: now,
    endpointName: endpoint,
    reference: { kind: 'log_window', rows: REFERENCE_ROWS, origin: 'given' },
    windowRows: WINDOW_ROWS,
    windowSeconds: 0,
    windowSlide: WINDOW_ROWS,
    requestedColumns: [],
    tensorColumns: [{ tensor: 'features', names: Array.from({ length: COLUMNS }, (_, i) => `f${i}`) }],
    detectors: DETECTOR ? Array.from({ length: COLUMNS }, (_, i) => ({ column: `f${i}`, detector: DETECTOR, threshold: 0 })) : [],
    driftShare: 0.5,
    performance: null,
    state: 'pending',
    stateMessage: '',
    monitoredColumns: [],
    windowsClosed: 0,
  });
  // The reference fills first, untimed.
  const bus = platform.runtime.bus;
  const publish = async (batch: EventEnvelope[]) => (bus.publishBatch ? bus.publishBatch(batch) : Promise.all(batch.map((envelope) => bus.publish(envelope))));
  for (const batch of chunked(envelopes(endpoint, REFERENCE_ROWS, 50, run + 1))) await publish(batch);
  while ((await nextSeqOf(service, monitorId)) <= REFERENCE_ROWS) await sleep(5);
  const events = envelopes(endpoint, rows, rowsPerEvent, 100 + run);
  const started = process.hrtime.bigint();
  for (const batch of chunked(events)) await publish(batch);
  while ((await nextSeqOf(service, monitorId)) <= REFERENCE_ROWS + rows) await sleep(2);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const windows = (await service.dataSource.query(`SELECT number FROM monitor_windows WHERE monitor_id = '${monitorId}'`)).length;
  if (windows !== Math.floor(rows / WINDOW_ROWS)) throw new Error(`expected ${Math.floor(rows / WINDOW_ROWS)} windows, found ${windows}`);
  return seconds;
}

async function main(): Promise<void> {
  const platform = await TestPlatform.start({}, { plugins: [driftStats] });
  try {
    const service = await platform.startService(monitoringService);
    const detector = DETECTOR || 'the default policy (wasserstein above 1,000 reference rows, ks up to it)';
    console.log(
      `monitoring ingest, SQLite (standalone), ${rows} rows a run x ${runs} runs, ${COLUMNS} FP32 columns, a ${REFERENCE_ROWS}-row log-window reference, tumbling windows of ${WINDOW_ROWS} rows scored with ${detector}; ${cpus().length} CPUs, load ${load()}`,
    );
    for (const rowsPerEvent of SIZES) {
      const seconds: number[] = [];
      for (let run = 0; run < runs; run++) seconds.push(await ingest(platform, service, rowsPerEvent, run));
      const best = median(seconds);
      const rate = rows / best;
      console.log(
        `requests of ${String(rowsPerEvent).padStart(2)} row(s), ${PACK} a pack: ${Math.round(rate).toLocaleString('en')} rows/s, ${Math.round(rate / rowsPerEvent).toLocaleString('en')} requests/s (median ${best.toFixed(2)} s; target ${TARGET.toLocaleString('en')} rows/s: ${rate >= TARGET ? 'met' : 'missed'})`,
      );
    }
  } finally {
    await platform.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
