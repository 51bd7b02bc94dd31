import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { startService, type EventBus, type GrpcClient, type RunningService } from '@trellis/platform';
import { TestPlatform } from '@trellis/platform/testing';
import driftStats from '@trellis/plugin-drift-stats';
import { EventEnvelopeSchema, MonitoringServiceDesc, PredictionsLoggedEventSchema, WindowClosedEventSchema, type EventEnvelope, type WindowResult } from '@trellis/proto';
import { eventually, serviceDatabases, type ServiceDatabase } from '@trellis/testing';
import type { DataSource } from 'typeorm';
import { monitoringService } from '../monitoring.definition';
import { MonitorEntity } from '../monitors/monitor.entity';
import { pendingMonitor } from '../monitors/monitor.fixture';
import { PREDICTIONS_LOGGED } from './prediction-logged.handler';

type Client = GrpcClient<(typeof MonitoringServiceDesc)['method']>;

/** A fixed-seed generator (mulberry32), so every run logs the same values. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** BYTES elements as OIP raw bytes: each a 4-byte little-endian length, then its UTF-8 bytes. */
function bytesOf(values: string[]): Uint8Array {
  const parts = values.map((value) => Buffer.from(value, 'utf8'));
  const out = Buffer.alloc(parts.reduce((sum, part) => sum + 4 + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.writeUInt32LE(part.length, at);
    part.copy(out, at + 4);
    at += 4 + part.length;
  }
  return out;
}

interface Rows {
  /** Moves age and income up and makes most colours blue. */
  shifted?: boolean;
  /** Logs colour as a truncated tensor: its name, datatype and shape without data. */
  truncatedColour?: boolean;
  answeredAtMs?: number;
}

/**
 * A logged prediction of `rows` rows of endpoint `endpoint` in project p1: input `features`
 * [rows, 2] FP64 (age, income), input `colour` [rows] BYTES, output `score` [rows] FP32, its id
 * `id` (the envelope's, which the inbox deduplicates on), alone in its pack.
 */
function logged(endpoint: string, id: string, rows: number, random: () => number, { shifted = false, truncatedColour = false, answeredAtMs = 1_700_000_000_000 }: Rows = {}): EventEnvelope {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const features = new Float64Array(rows * 2);
  const colours: string[] = [];
  const scores = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    features[row * 2] = 40 + 10 * normal() + (shifted ? 15 : 0);
    features[row * 2 + 1] = 50 + 10 * normal() + (shifted ? 20 : 0);
    const pick = random();
    colours.push(shifted ? (pick < 0.8 ? 'blue' : 'red') : pick < 0.4 ? 'red' : pick < 0.8 ? 'green' : 'blue');
    scores[row] = random();
  }
  const message = create(PredictionsLoggedEventSchema, {
    predictions: [{
    prediction: { requestId: id, projectId: 'p1', endpointId: `e-${endpoint}`, endpointName: endpoint, revisionId: 'rev-1', answeredAt: timestampFromMs(answeredAtMs) },
    inputs: [
      { name: 'features', datatype: 'FP64', shape: [BigInt(rows), 2n], rawContents: new Uint8Array(features.buffer) },
      truncatedColour
        ? { name: 'colour', datatype: 'BYTES', shape: [BigInt(rows)], truncated: true }
        : { name: 'colour', datatype: 'BYTES', shape: [BigInt(rows)], rawContents: bytesOf(colours) },
    ],
    outputs: [{ name: 'score', datatype: 'FP32', shape: [BigInt(rows)], rawContents: new Uint8Array(scores.buffer) }],
    }],
  });
  return create(EventEnvelopeSchema, {
    id,
    subject: PREDICTIONS_LOGGED,
    payloadType: PredictionsLoggedEventSchema.typeName,
    payload: toBinary(PredictionsLoggedEventSchema, message),
    projectId: 'p1',
  });
}

/** One pack of id `id` holding the predictions of `envelopes` (made by `logged`), in order, as serving packs them. */
function packed(id: string, envelopes: readonly EventEnvelope[]): EventEnvelope {
  const predictions = envelopes.flatMap((envelope) => fromBinary(PredictionsLoggedEventSchema, envelope.payload).predictions);
  const message = create(PredictionsLoggedEventSchema, { predictions });
  return create(EventEnvelopeSchema, { id, subject: PREDICTIONS_LOGGED, payloadType: PredictionsLoggedEventSchema.typeName, payload: toBinary(PredictionsLoggedEventSchema, message), projectId: 'p1' });
}

/** `envelopes` in packs of `size`, the pack ids `<prefix>-<index>`. */
function packsOf(prefix: string, envelopes: readonly EventEnvelope[], size: number): EventEnvelope[] {
  return Array.from({ length: Math.ceil(envelopes.length / size) }, (_, index) => packed(`${prefix}-${index}`, envelopes.slice(index * size, (index + 1) * size)));
}

async function publish(bus: EventBus, envelopes: readonly EventEnvelope[]): Promise<void> {
  if (bus.publishBatch) await bus.publishBatch(envelopes);
  else for (const envelope of envelopes) await bus.publish(envelope);
}

/** A monitor of `endpoint` whose first `referenceRows` rows are its reference, with count windows of `windowRows`. */
function monitorOf(id: string, endpoint: string, referenceRows: number, window: Partial<MonitorEntity>): MonitorEntity {
  return pendingMonitor({
    id,
    name: endpoint,
    endpointName: endpoint,
    reference: { kind: 'log_window', rows: referenceRows, origin: 'given' },
    tensorColumns: [{ tensor: 'features', names: ['age', 'income'] }],
    stateMessage: `waiting for the first ${referenceRows} logged rows`,
    ...window,
  });
}

const streamOf = async (dataSource: DataSource, monitorId: string) => {
  const [row] = (await dataSource.query(`SELECT next_seq, next_window, late_rows FROM monitor_streams WHERE monitor_id = '${monitorId}'`)) as Array<Record<string, string | number>>;
  return row && { nextSeq: Number(row.next_seq), nextWindow: Number(row.next_window), lateRows: Number(row.late_rows) };
};

const windowRowsOf = async (dataSource: DataSource, monitorId: string) =>
  ((await dataSource.query(`SELECT number, rows, first_seq, last_seq FROM monitor_windows WHERE monitor_id = '${monitorId}' ORDER BY number`)) as Array<Record<string, string | number>>).map(
    (row) => ({ number: Number(row.number), rows: Number(row.rows), firstSeq: Number(row.first_seq), lastSeq: Number(row.last_seq) }),
  );

const verdicts = (window: WindowResult) => Object.fromEntries(window.columns.map((column) => [column.column, column.drifted]));

describe.each(serviceDatabases('monitoring'))('windows of logged predictions (%s)', (_database, databaseFor) => {
  let database: ServiceDatabase;
  let platform: TestPlatform;
  let first: RunningService;
  let service: RunningService;
  /** A viewer of p1, calling the service running now. */
  const viewer = (): Promise<Client> => platform.client(MonitoringServiceDesc, service.grpcAddress, { sub: 'vic', bindings: [{ project: 'p1', role: 'viewer' }] });

  beforeAll(async () => {
    database = await databaseFor();
    platform = await TestPlatform.start(database.env, { plugins: [driftStats] });
    // Started apart from the platform's list, so the restart spec can close it itself.
    first = await startService({ ...monitoringService, defaultPort: 0 }, platform.runtime);
    service = first;
  });

  afterAll(async () => {
    if (service === first) await first?.close();
    await platform?.stop();
    await database?.cleanup();
  });

  it('fits the log-window reference from the first rows, then scores each count window: the same distribution does not drift, a shifted one does', async () => {
    const id = '00000000-0000-4000-8000-0000000000a1';
    await service.dataSource.getRepository(MonitorEntity).insert(monitorOf(id, 'churn', 300, { windowRows: 200, windowSlide: 200 }));
    const drifts: string[] = [];
    const watching = await platform.runtime.bus.subscribe({
      durable: 'windows-spec-drift',
      subject: 'trellis.monitoring.v1.drift.detected',
      handler: async (envelope) => {
        const event = fromBinary(WindowClosedEventSchema, envelope.payload);
        if (event.monitorName === 'churn') drifts.push(`${event.endpointName} window ${event.window?.number} ${event.revisionIds.join(',')}`);
      },
    });
    const random = seeded(19);
    // Packs of 4 requests of 10 rows, the shifted ones from the 51st request on.
    const events = packsOf('a', [
      ...Array.from({ length: 30 }, (_, i) => logged('churn', `a-ref-${i}`, 10, random)),
      ...Array.from({ length: 20 }, (_, i) => logged('churn', `a-same-${i}`, 10, random)),
      ...Array.from({ length: 20 }, (_, i) => logged('churn', `a-shift-${i}`, 10, random, { shifted: true })),
    ], 4);
    for (let at = 0; at < events.length; at += 4) await publish(platform.runtime.bus, events.slice(at, at + 4));

    const windows = await eventually(async () => {
      const listed = (await (await viewer()).listWindowResults({ monitorId: id })).windows;
      expect(listed).toHaveLength(2);
      return listed;
    });
    const monitor = await service.dataSource.getRepository(MonitorEntity).findOneByOrFail({ id });
    expect(monitor.state).toBe('active');
    expect(monitor.windowsClosed).toBe(2);
    expect(monitor.monitoredColumns.map((column) => column.name)).toEqual(['age', 'income', 'colour', 'score']);
    expect(windows.map((window) => [Number(window.number), Number(window.rows)])).toEqual([
      [1, 200],
      [2, 200],
    ]);
    // At a 0.05 threshold a column of the same distribution drifts one window in twenty: at most one may.
    expect(windows[0].datasetDrift).toBe(false);
    expect(windows[0].driftedColumns).toBeLessThanOrEqual(1);
    expect(windows[1].datasetDrift).toBe(true);
    expect(verdicts(windows[1])).toMatchObject({ age: true, income: true, colour: true });
    expect(windows[1].driftShare).toBeGreaterThanOrEqual(0.75);
    expect(windows[1].columns.every((column) => column.error === '' && Number(column.rows) === 200 && column.missingRate === 0)).toBe(true);
    // The reference's rows are in no window; the rows the windows took are gone.
    expect(await windowRowsOf(service.dataSource, id)).toEqual([
      { number: 1, rows: 200, firstSeq: 301, lastSeq: 500 },
      { number: 2, rows: 200, firstSeq: 501, lastSeq: 700 },
    ]);
    expect(await service.dataSource.query(`SELECT first_seq FROM monitor_chunks WHERE monitor_id = '${id}'`)).toEqual([]);

    await eventually(() => expect(drifts).toEqual(['churn window 2 rev-1']));
    await watching.stop();

    const client = await viewer();
    const closed = Number(windows[1].closeTime?.seconds ?? 0n);
    expect((await client.listWindowResults({ monitorId: id, startTime: { seconds: BigInt(closed + 3600) } })).windows).toEqual([]);
    expect((await client.listWindowResults({ monitorId: id, endTime: { seconds: BigInt(closed + 3600) } })).windows).toHaveLength(2);
    const refused = await client.listWindowResults({ monitorId: id, startTime: { seconds: 10n }, endTime: { seconds: 5n } }).then(
      () => undefined,
      (error: { code: number; details: string }) => error,
    );
    expect(refused?.code).toBe(status.INVALID_ARGUMENT);
    expect(refused?.details).toContain('end_time');

    const paged = await (await viewer()).listWindowResults({ monitorId: id, pageSize: 1 });
    expect(paged.windows.map((window) => Number(window.number))).toEqual([1]);
    const next = await (await viewer()).listWindowResults({ monitorId: id, pageSize: 1, pageToken: paged.nextPageToken });
    expect(next.windows.map((window) => Number(window.number))).toEqual([2]);
    expect(next.nextPageToken).toBe('');
  });

  it('counts no row twice when a batch comes again, and loses none across a restart', async () => {
    const id = '00000000-0000-4000-8000-0000000000b2';
    await service.dataSource.getRepository(MonitorEntity).insert(monitorOf(id, 'restart', 100, { windowRows: 100, windowSlide: 50 }));
    const random = seeded(23);
    // 40 requests of 10 rows in packs of 5.
    const events = packsOf('b', Array.from({ length: 40 }, (_, i) => logged('restart', `b-${i}`, 10, random)), 5);
    await publish(platform.runtime.bus, events.slice(0, 3));
    // The same packs again, as a redelivery after a lost acknowledgement brings them.
    await publish(platform.runtime.bus, events.slice(1, 3));
    await eventually(async () => expect(await streamOf(service.dataSource, id)).toMatchObject({ nextSeq: 151 }));

    await first.close();
    service = await platform.startService(monitoringService);
    await publish(platform.runtime.bus, [...events.slice(2, 5), ...events.slice(5, 8)]);
    await eventually(async () => expect(await streamOf(service.dataSource, id)).toMatchObject({ nextSeq: 401 }));

    // Windows of 100 rows every 50 after the 100-row reference: rows 101-200, 151-250, ..., 301-400.
    expect(await windowRowsOf(service.dataSource, id)).toEqual([
      { number: 1, rows: 100, firstSeq: 101, lastSeq: 200 },
      { number: 2, rows: 100, firstSeq: 151, lastSeq: 250 },
      { number: 3, rows: 100, firstSeq: 201, lastSeq: 300 },
      { number: 4, rows: 100, firstSeq: 251, lastSeq: 350 },
      { number: 5, rows: 100, firstSeq: 301, lastSeq: 400 },
    ]);
    expect((await service.dataSource.getRepository(MonitorEntity).findOneByOrFail({ id })).windowsClosed).toBe(5);
  });

  it('closes a time window when a row at or after its end arrives, leaves empty windows unscored, and counts rows later than a closed window', async () => {
    const id = '00000000-0000-4000-8000-0000000000c3';
    // Answer times in the future of the clock, so the worker's grace never closes these windows.
    const t0 = Date.now() + 365 * 86_400_000 - ((Date.now() + 365 * 86_400_000) % 60_000);
    await service.dataSource.getRepository(MonitorEntity).insert(monitorOf(id, 'timed', 50, { windowRows: 0, windowSeconds: 60, windowSlide: 60 }));
    const random = seeded(31);
    const at = (seconds: number) => ({ answeredAtMs: t0 + seconds * 1000 });
    await publish(platform.runtime.bus, [
      ...Array.from({ length: 5 }, (_, i) => logged('timed', `c-ref-${i}`, 10, random, at(1))),
      logged('timed', 'c-w1-a', 10, random, at(61)),
      logged('timed', 'c-w1-b', 10, random, at(119)),
      logged('timed', 'c-w2', 10, random, at(125)),
    ]);
    await eventually(async () => expect(await windowRowsOf(service.dataSource, id)).toEqual([{ number: 1, rows: 20, firstSeq: 51, lastSeq: 70 }]));

    await publish(platform.runtime.bus, [logged('timed', 'c-late', 10, random, at(90)), logged('timed', 'c-w5', 10, random, at(305))]);
    await eventually(async () => expect(await streamOf(service.dataSource, id)).toMatchObject({ lateRows: 10, nextSeq: 91 }));
    // 120-180 s held rows; 180-240 and 240-300 held none and are not scored; 300-360 is still open.
    expect(await windowRowsOf(service.dataSource, id)).toEqual([
      { number: 1, rows: 20, firstSeq: 51, lastSeq: 70 },
      { number: 2, rows: 10, firstSeq: 71, lastSeq: 80 },
    ]);
    const [, second] = (await (await viewer()).listWindowResults({ monitorId: id })).windows;
    expect(second.startTime && Number(second.startTime.seconds) * 1000).toBe(t0 + 120_000);
    expect(second.endTime && Number(second.endTime.seconds) * 1000).toBe(t0 + 180_000);
  });

  it('fails a monitor whose columns the logged tensors do not give, and goes on with the batch', async () => {
    const failing = '00000000-0000-4000-8000-0000000000e5';
    const healthy = '00000000-0000-4000-8000-0000000000e6';
    const monitors = service.dataSource.getRepository(MonitorEntity);
    await monitors.insert(monitorOf(failing, 'shared', 10, { name: 'wrong-tensor', tensorColumns: [{ tensor: 'embedding', names: ['e0'] }] }));
    await monitors.insert(monitorOf(healthy, 'shared', 10, { name: 'right', windowRows: 10, windowSlide: 10 }));
    const random = seeded(53);
    await publish(platform.runtime.bus, [logged('shared', 'e-0', 10, random), logged('shared', 'e-1', 10, random)]);
    await eventually(async () => expect(await windowRowsOf(service.dataSource, healthy)).toEqual([{ number: 1, rows: 10, firstSeq: 11, lastSeq: 20 }]));
    const failed = await monitors.findOneByOrFail({ id: failing });
    expect(failed.state).toBe('failed');
    expect(failed.stateMessage).toContain('embedding');
  });

  it('gives a column with no values in a window an error and its missing rate, and scores the others', async () => {
    const id = '00000000-0000-4000-8000-0000000000a8';
    await service.dataSource.getRepository(MonitorEntity).insert(monitorOf(id, 'gappy', 100, { windowRows: 50, windowSlide: 50 }));
    const random = seeded(71);
    await publish(platform.runtime.bus, [
      ...Array.from({ length: 10 }, (_, i) => logged('gappy', `g-ref-${i}`, 10, random)),
      ...Array.from({ length: 5 }, (_, i) => logged('gappy', `g-${i}`, 10, random, { truncatedColour: true })),
    ]);
    const [window] = await eventually(async () => {
      const listed = (await (await viewer()).listWindowResults({ monitorId: id })).windows;
      expect(listed).toHaveLength(1);
      return listed;
    });
    const colour = window.columns.find((column) => column.column === 'colour');
    expect(colour).toMatchObject({ error: 'no values in the window', missingRate: 1, rows: 0n, drifted: false });
    expect(window.columns.filter((column) => column.error === '').map((column) => column.column)).toEqual(['age', 'income', 'score']);
    expect(window.driftShare).toBe(window.driftedColumns / 3);
  });

  it("removes a deleted monitor's rows, stream, windows and results", async () => {
    const id = '00000000-0000-4000-8000-0000000000f7';
    await service.dataSource.getRepository(MonitorEntity).insert(monitorOf(id, 'doomed', 10, { windowRows: 10, windowSlide: 10 }));
    const random = seeded(61);
    await publish(platform.runtime.bus, [0, 1, 2].map((i) => logged('doomed', `f-${i}`, 7, random)));
    await eventually(async () => expect(await windowRowsOf(service.dataSource, id)).toHaveLength(1));
    const editor = await platform.client(MonitoringServiceDesc, service.grpcAddress, { sub: 'erin', bindings: [{ project: 'p1', role: 'editor' }] });
    await editor.deleteMonitor({ monitorId: id });
    const left = async () => {
      const counts: number[] = [];
      for (const table of ['monitor_streams', 'monitor_chunks', 'monitor_windows', 'monitor_column_results']) {
        counts.push((await service.dataSource.query(`SELECT monitor_id FROM ${table} WHERE monitor_id = '${id}'`)).length);
      }
      return counts;
    };
    await eventually(async () => expect(await left()).toEqual([0, 0, 0, 0]));
  });

  it('closes a time window that no later row closes once it is past its end and the grace', async () => {
    const id = '00000000-0000-4000-8000-0000000000d4';
    const t0 = 1_600_000_000_000;
    await service.dataSource.getRepository(MonitorEntity).insert(monitorOf(id, 'quiet', 20, { windowRows: 0, windowSeconds: 60, windowSlide: 60 }));
    const random = seeded(41);
    await publish(platform.runtime.bus, [
      ...Array.from({ length: 2 }, (_, i) => logged('quiet', `d-ref-${i}`, 10, random, { answeredAtMs: t0 })),
      logged('quiet', 'd-w1', 10, random, { answeredAtMs: t0 + 61_000 }),
    ]);
    await eventually(async () => expect(await windowRowsOf(service.dataSource, id)).toEqual([{ number: 1, rows: 10, firstSeq: 21, lastSeq: 30 }]));
  });
});
