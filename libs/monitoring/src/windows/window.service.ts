import { create } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { FailedPreconditionError, Outbox, SERVICE_CONFIG } from '@trellis/platform';
import type { DriftColumn } from '@trellis/plugin-sdk';
import { WindowClosedEventSchema, type PredictionLoggedEvent } from '@trellis/proto';
import type { EntityManager } from 'typeorm';
import { AlertEvaluator } from '../alerts/alert-evaluator';
import type { MonitoringConfig } from '../monitoring.config';
import { monitoringEvents } from '../monitoring.events';
import { resolveTensorColumns } from '../monitors/column-resolution';
import type { MonitorEntity, MonitoredColumnRow, StoredPerformance } from '../monitors/monitor.entity';
import { ReferenceFitter } from '../monitors/reference-fitter';
import { PerformanceLedger } from '../performance/performance-ledger';
import type { PredictedRow } from '../performance/window-performance';
import { predictionsOf } from './predictions';
import { packChunk, unpackChunk, type ChunkColumn, type RowChunk } from './row-chunk';
import { earliestFrom, joinChunks, pick, rowsOfSeq, rowsOfTime, type RowTable } from './row-table';
import type { ScoredWindow } from './scored-window';
import { readColumns, rowsOf, type ColumnTarget, type RawTensor } from './tensor-columns';
import { alignedStart, completeCountWindows, countWindowRange, nextTimeStart, type CountWindows, type TimeWindows } from './window-bounds';
import { windowToProto } from './window.mapping';
import { WindowMetrics } from './window-metrics';
import { WindowScorer, type WindowColumn } from './window-scorer';
import { WindowRepository, type StreamState } from './window.repository';

/** The most revision ids a WindowClosedEvent carries (events.proto). */
const EVENT_REVISIONS = 64;

/**
 * Prediction logs into windows: each batch of logged predictions appends one packed chunk of rows
 * per monitor of their endpoints and advances its row numbers in the transaction that records the
 * events as consumed, so a restart loses no row and counts none twice; each window that a batch (or,
 * for time windows, the clock) completes is scored, stored with its event, handed to performance
 * and alerts, and the rows no open window needs are deleted, all in that same transaction.
 */
@Injectable()
export class WindowService {
  constructor(
    private readonly repository: WindowRepository,
    private readonly scorer: WindowScorer,
    private readonly metrics: WindowMetrics,
    private readonly outbox: Outbox,
    private readonly fitter: ReferenceFitter,
    private readonly ledger: PerformanceLedger,
    private readonly alerts: AlertEvaluator,
    @Inject(SERVICE_CONFIG) private readonly config: MonitoringConfig,
  ) {}

  /** Consumes logged predictions (those of a batch of packs, flattened) in `tx`, the transaction that records the packs as consumed. */
  async ingest(tx: EntityManager, events: readonly PredictionLoggedEvent[]): Promise<void> {
    const byEndpoint = new Map<string, PredictionLoggedEvent[]>();
    const endpoints: Array<{ projectId: string; endpointName: string }> = [];
    for (const event of events) {
      if (!event.prediction) continue;
      const { projectId, endpointName } = event.prediction;
      const key = endpointKey(projectId, endpointName);
      const list = byEndpoint.get(key);
      if (list) list.push(event);
      else {
        byEndpoint.set(key, [event]);
        endpoints.push({ projectId, endpointName });
      }
    }
    const watching = await this.repository.monitorsOf(tx, endpoints);
    if (watching.length === 0) return;
    const streams = await this.repository.lockStreams(tx, watching.map((monitor) => monitor.id));
    // Read again under the locks: another replica may have fitted a reference since the first read.
    const monitors = await this.repository.monitorsById(tx, [...streams.keys()]);
    for (const monitor of monitors.sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const stream = streams.get(monitor.id);
      const mine = byEndpoint.get(endpointKey(monitor.projectId, monitor.endpointName));
      if (!stream || !mine) continue;
      await this.consume(tx, monitor, stream, mine);
      await this.repository.saveStream(tx, stream);
    }
  }

  /**
   * Closes the time windows of a monitor that ended `timeWindowGraceMs` before `nowMs` without a
   * later row to close them; the worker calls it.
   */
  async closeByClock(monitorId: string, nowMs: number): Promise<void> {
    await this.repository.transaction(async (tx) => {
      const streams = await this.repository.lockStreams(tx, [monitorId]);
      const [monitor] = await this.repository.monitorsById(tx, [monitorId]);
      const stream = streams.get(monitorId);
      if (!monitor || !stream || monitor.state !== 'active' || monitor.windowSeconds <= 0) return;
      await this.closeTimeWindows(tx, monitor, stream, Math.max(stream.watermarkMs, nowMs - this.config.timeWindowGraceMs));
      await this.repository.saveStream(tx, stream);
    });
  }

  /** Removes what the feature keeps of a deleted monitor. */
  async forget(tx: EntityManager, monitor: Pick<MonitorEntity, 'id' | 'projectId' | 'name'>): Promise<void> {
    await this.repository.deleteMonitor(tx, monitor.id);
    this.scorer.forget(monitor.id);
    this.metrics.forget(monitor);
  }

  private async consume(tx: EntityManager, monitor: MonitorEntity, stream: StreamState, events: readonly PredictionLoggedEvent[]): Promise<void> {
    const filling = monitor.state === 'pending' && monitor.reference.kind === 'log_window';
    if (monitor.state === 'pending' && !filling) {
      const rows = events.reduce((sum, event) => sum + rowCountOf(event), 0);
      stream.skippedRows += rows;
      this.metrics.rowsSkipped(monitor, rows);
      return;
    }
    if (monitor.state !== 'active' && !filling) return;
    if (filling && stream.columns.length === 0) {
      const first = events[0];
      const tensors = [...first.inputs.map((tensor) => ({ tensor, output: false })), ...first.outputs.map((tensor) => ({ tensor, output: true }))];
      try {
        stream.columns = resolveTensorColumns(
          monitor,
          tensors.map(({ tensor, output }) => ({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape.map(Number), output })),
        );
      } catch (error) {
        // The model's tensors do not give the columns asked for: no later row will either.
        if (!(error instanceof FailedPreconditionError)) throw error;
        await this.repository.failMonitor(tx, monitor.id, `the logged rows cannot be read into the monitor's columns: ${error.message}`);
        return;
      }
    }
    const columns = filling ? stream.columns : monitor.monitoredColumns;
    const kept = this.keptRows(monitor, stream, columns, events);
    const chunk = this.chunkOf(monitor, stream, columns, kept);
    if (chunk) {
      await this.repository.appendChunk(tx, monitor.id, chunk.firstSeq, chunk.count, max(chunk.answeredAtMs), packChunk(chunk));
      if (monitor.performance) await this.recordPredictions(tx, monitor, monitor.performance, chunk.firstSeq, kept);
      this.metrics.rowsIngested(monitor, chunk.count);
    }
    let current = monitor;
    if (filling && monitor.reference.kind === 'log_window' && stream.nextSeq - 1 >= monitor.reference.rows) {
      current = await this.fitReference(tx, monitor, stream, monitor.reference.rows);
      stream.columns = [];
      this.scorer.forget(monitor.id);
    }
    if (current.state !== 'active') return;
    if (current.windowSeconds > 0) await this.closeTimeWindows(tx, current, stream, stream.watermarkMs);
    else await this.closeCountWindows(tx, current, stream);
  }

  /** The batch's events the monitor keeps, with their rows: all but those later than every open time window (counted). */
  private keptRows(monitor: MonitorEntity, stream: StreamState, columns: readonly MonitoredColumnRow[], events: readonly PredictionLoggedEvent[]): KeptEvent[] {
    const timed = monitor.windowSeconds > 0;
    const kept: KeptEvent[] = [];
    let late = 0;
    for (const event of events) {
      const rows = rowCountOf(event, columns);
      const atMs = event.prediction?.answeredAt ? timestampMs(event.prediction.answeredAt) : 0;
      if (timed && stream.nextStartMs >= 0 && atMs < stream.nextStartMs) late += rows;
      else if (rows > 0) kept.push({ event, rows, atMs });
    }
    if (late > 0) {
      stream.lateRows += late;
      this.metrics.rowsLate(monitor, late);
    }
    return kept;
  }

  /** The kept rows as one chunk numbered from the stream's next row; undefined when there are none. */
  private chunkOf(monitor: MonitorEntity, stream: StreamState, columns: readonly MonitoredColumnRow[], kept: readonly KeptEvent[]): RowChunk | undefined {
    const timed = monitor.windowSeconds > 0;
    const count = kept.reduce((sum, { rows }) => sum + rows, 0);
    if (count === 0) return undefined;
    const answeredAtMs = new Float64Array(count);
    const revision = new Uint16Array(count);
    const revisions: string[] = [];
    const revisionIndex = new Map<string, number>();
    const values: ChunkColumn[] = columns.map(({ name, kind }) =>
      kind === 'numeric' ? { name, kind, values: new Float64Array(count) } : { name, kind, values: new Array<string | null>(count) },
    );
    // Each tensor's columns together, so that a tensor's bytes are read once an event.
    const byTensor = new Map<string, ColumnTarget[]>();
    columns.forEach((column, c) => {
      const target = values[c];
      const targets = byTensor.get(column.tensor) ?? [];
      targets.push(target.kind === 'numeric' ? { index: column.index, kind: 'numeric', values: target.values } : { index: column.index, kind: 'categorical', values: target.values });
      byTensor.set(column.tensor, targets);
    });
    let at = 0;
    for (const { event, rows, atMs } of kept) {
      const revisionId = event.prediction?.revisionId ?? '';
      let index = revisionIndex.get(revisionId);
      if (index === undefined) {
        index = revisions.push(revisionId) - 1;
        revisionIndex.set(revisionId, index);
      }
      answeredAtMs.fill(atMs, at, at + rows);
      revision.fill(index, at, at + rows);
      const tensors = tensorsByName(event);
      for (const [tensor, targets] of byTensor) readColumns(tensors.get(tensor), targets, at, rows);
      at += rows;
    }
    const firstSeq = stream.nextSeq;
    stream.nextSeq += count;
    stream.watermarkMs = Math.max(stream.watermarkMs, max(answeredAtMs));
    if (timed && stream.nextStartMs < 0 && monitor.state === 'active') stream.nextStartMs = alignedStart(timeWindowsOf(monitor), min(answeredAtMs));
    return { firstSeq, count, answeredAtMs, revision, revisions, columns: values };
  }

  /** Hands the predictions of the rows past a log-window reference to performance. */
  private async recordPredictions(tx: EntityManager, monitor: MonitorEntity, performance: StoredPerformance, firstSeq: number, kept: readonly KeptEvent[]): Promise<void> {
    const after = monitor.reference.kind === 'log_window' ? monitor.reference.rows : 0;
    const rows: PredictedRow[] = [];
    let seq = firstSeq;
    for (const { event, rows: count, atMs } of kept) {
      const predicted = predictionsOf(performance, event.outputs as RawTensor[], count);
      for (let row = 0; row < count; row++, seq++) {
        const value = predicted[row];
        if (seq > after && value !== undefined) rows.push({ seq, requestId: event.prediction?.requestId ?? '', row, answeredAtMs: atMs, predicted: value });
      }
    }
    if (rows.length) await this.ledger.recordPredictions(tx, monitor, rows);
  }

  /** Fits the log-window reference from the monitor's first `rows` rows; the monitor as the fitter saved it. */
  private async fitReference(tx: EntityManager, monitor: MonitorEntity, stream: StreamState, rows: number): Promise<MonitorEntity> {
    const table = await this.rowsOfSeq(tx, monitor.id, stream.columns, 1, rows);
    const indexes = rowsOfSeq(table, 1, rows);
    const picked = pick(table, indexes);
    const data = new Map<string, DriftColumn>();
    for (const column of stream.columns) {
      const values = picked.get(column.name) ?? [];
      data.set(
        column.name,
        values instanceof Float64Array
          ? { type: 'numeric', values: Array.from(values, (value) => (Number.isNaN(value) ? null : value)) }
          : { type: 'categorical', values: values as (string | null)[] },
      );
    }
    const fitted = await this.fitter.fit(tx, monitor, stream.columns, data, rows);
    // The reference's rows are in no window; a failed fit leaves the monitor nothing to keep.
    await this.repository.deleteChunksBeforeSeq(tx, monitor.id, fitted.state === 'active' ? rows + 1 : Number.MAX_SAFE_INTEGER);
    return fitted;
  }

  private async closeCountWindows(tx: EntityManager, monitor: MonitorEntity, stream: StreamState): Promise<void> {
    const windows = countWindowsOf(monitor);
    const complete = completeCountWindows(windows, stream.nextSeq - 1);
    if (complete >= stream.nextWindow) {
      const from = countWindowRange(windows, stream.nextWindow).firstSeq;
      const to = countWindowRange(windows, complete).lastSeq;
      const table = await this.rowsOfSeq(tx, monitor.id, monitor.monitoredColumns, from, to);
      for (let number = stream.nextWindow; number <= complete; number++) {
        const { firstSeq, lastSeq } = countWindowRange(windows, number);
        const indexes = rowsOfSeq(table, firstSeq, lastSeq);
        const times = Array.from(indexes, (index) => table.answeredAtMs[index]);
        await this.closeWindow(tx, monitor, number, table, indexes, Math.min(...times), Math.max(...times));
      }
      stream.nextWindow = complete + 1;
    }
    await this.repository.deleteChunksBeforeSeq(tx, monitor.id, countWindowRange(windows, stream.nextWindow).firstSeq);
  }

  private async closeTimeWindows(tx: EntityManager, monitor: MonitorEntity, stream: StreamState, watermarkMs: number): Promise<void> {
    const windows = timeWindowsOf(monitor);
    const { offset } = countWindowsOf(monitor);
    if (stream.nextStartMs >= 0 && stream.nextStartMs + windows.sizeMs > watermarkMs) return;
    const table = joinChunks(
      (await this.repository.chunksSince(tx, monitor.id, stream.nextStartMs)).map((chunk) => unpackChunk(chunk.firstSeq, chunk.count, chunk.payload)),
      monitor.monitoredColumns,
    );
    if (stream.nextStartMs < 0) {
      // The first window after a log-window reference starts with the first row past it.
      const first = earliestFrom(table, -Infinity, offset);
      if (first === undefined) return;
      stream.nextStartMs = alignedStart(windows, first);
    }
    while (stream.nextStartMs + windows.sizeMs <= watermarkMs) {
      const startMs = stream.nextStartMs;
      const indexes = rowsOfTime(table, startMs, startMs + windows.sizeMs, offset);
      if (indexes.length > 0) await this.closeWindow(tx, monitor, stream.nextWindow++, table, indexes, startMs, startMs + windows.sizeMs);
      stream.nextStartMs = nextTimeStart(windows, startMs, earliestFrom(table, startMs + windows.slideMs, offset), watermarkMs);
    }
    await this.repository.deleteChunksBefore(tx, monitor.id, stream.nextStartMs);
  }

  private async rowsOfSeq(tx: EntityManager, monitorId: string, columns: readonly MonitoredColumnRow[], firstSeq: number, lastSeq: number): Promise<RowTable> {
    const chunks = await this.repository.chunksOfSeq(tx, monitorId, firstSeq, lastSeq);
    return joinChunks(
      chunks.map((chunk) => unpackChunk(chunk.firstSeq, chunk.count, chunk.payload)),
      columns,
    );
  }

  /**
   * Scores `values` (each column's, by name, `rows` rows) as the monitor's next window and stores
   * it in `tx` as a window of logged rows is: its results, its events, alerts. The datasets
   * feature's windows, one per version, which hold no logged rows (row numbers 0).
   */
  async recordWindow(tx: EntityManager, monitor: MonitorEntity, window: { values: ReadonlyMap<string, WindowColumn>; rows: number; startMs: number; endMs: number; datasetVersion: number }): Promise<ScoredWindow> {
    const stream = (await this.repository.lockStreams(tx, [monitor.id])).get(monitor.id);
    if (!stream) throw new Error(`monitor ${monitor.id} has no stream state`);
    const number = stream.nextWindow++;
    const scored = await this.storeWindow(tx, monitor, { number, ...window, firstSeq: 0, lastSeq: 0, revisionIds: [] });
    await this.repository.saveStream(tx, stream);
    return scored;
  }

  /** Scores and stores one window of logged rows. */
  private async closeWindow(tx: EntityManager, monitor: MonitorEntity, number: number, table: RowTable, indexes: Uint32Array, startMs: number, endMs: number): Promise<void> {
    let firstSeq = Infinity;
    let lastSeq = -Infinity;
    const revisionIds = new Set<string>();
    for (const index of indexes) {
      firstSeq = Math.min(firstSeq, table.seq[index]);
      lastSeq = Math.max(lastSeq, table.seq[index]);
      revisionIds.add(table.revision[index]);
    }
    await this.storeWindow(tx, monitor, { number, values: pick(table, indexes), rows: indexes.length, startMs, endMs, firstSeq, lastSeq, revisionIds: [...revisionIds].filter(Boolean).sort() });
  }

  /** Scores and stores one window, publishes its events and hands it to performance and alerts. */
  private async storeWindow(tx: EntityManager, monitor: MonitorEntity, closing: ClosingWindow): Promise<ScoredWindow> {
    const { number, startMs, endMs, firstSeq, lastSeq } = closing;
    const verdicts = await this.scorer.score(tx, monitor, closing.values, closing.rows);
    const scored = verdicts.filter((verdict) => !verdict.error);
    const driftedColumns = scored.filter((verdict) => verdict.drifted).length;
    const driftShare = scored.length ? driftedColumns / scored.length : 0;
    const window: ScoredWindow = {
      monitorId: monitor.id,
      projectId: monitor.projectId,
      monitorName: monitor.name,
      endpointName: monitor.endpointName,
      number,
      startMs,
      endMs,
      closedAtMs: Date.now(),
      rows: closing.rows,
      firstSeq,
      lastSeq,
      columns: verdicts,
      driftedColumns,
      driftShare,
      datasetDrift: scored.length > 0 && driftShare >= monitor.driftShare,
      revisionIds: closing.revisionIds,
    };
    await this.repository.insertWindow(
      tx,
      {
        monitorId: monitor.id,
        number,
        startMs,
        endMs,
        rows: window.rows,
        firstSeq,
        lastSeq,
        driftedColumns,
        driftShare,
        datasetDrift: window.datasetDrift,
        closedAt: window.closedAtMs,
        revisionIds: window.revisionIds,
      },
      verdicts.map((verdict, position) => ({ monitorId: monitor.id, windowNumber: number, position, ...verdict })),
    );
    const message = create(WindowClosedEventSchema, {
      projectId: monitor.projectId,
      monitorName: monitor.name,
      endpointName: monitor.endpointName,
      window: windowToProto(window),
      revisionIds: window.revisionIds.slice(0, EVENT_REVISIONS),
      datasetName: monitor.datasetName ?? '',
      datasetVersion: BigInt(closing.datasetVersion ?? 0),
    });
    await this.outbox.publish(tx, monitoringEvents, { subject: 'trellis.monitoring.v1.window.closed', message, projectId: monitor.projectId });
    if (window.datasetDrift) await this.outbox.publish(tx, monitoringEvents, { subject: 'trellis.monitoring.v1.drift.detected', message, projectId: monitor.projectId });
    if (monitor.performance) await this.ledger.windowClosed(tx, monitor, window);
    await this.alerts.judgeWindow(tx, monitor, window);
    this.metrics.windowClosed(monitor, window);
    return window;
  }
}

/** A window about to be scored: its number, each column's values and its bounds. */
interface ClosingWindow {
  number: number;
  values: ReadonlyMap<string, WindowColumn>;
  rows: number;
  startMs: number;
  endMs: number;
  firstSeq: number;
  lastSeq: number;
  revisionIds: string[];
  /** The dataset version that is the window, for a monitor of a dataset. */
  datasetVersion?: number;
}

/** An event a monitor keeps, its rows and its answer time. */
interface KeptEvent {
  event: PredictionLoggedEvent;
  rows: number;
  atMs: number;
}

function endpointKey(projectId: string, endpointName: string): string {
  return `${projectId}\u0000${endpointName}`;
}

function countWindowsOf(monitor: MonitorEntity): CountWindows {
  return {
    size: monitor.windowRows,
    slide: monitor.windowSlide > 0 ? monitor.windowSlide : monitor.windowRows,
    offset: monitor.reference.kind === 'log_window' ? monitor.reference.rows : 0,
  };
}

function timeWindowsOf(monitor: MonitorEntity): TimeWindows {
  const sizeMs = monitor.windowSeconds * 1000;
  return { sizeMs, slideMs: monitor.windowSlide > 0 ? monitor.windowSlide * 1000 : sizeMs };
}

function tensorsByName(event: PredictionLoggedEvent): Map<string, RawTensor> {
  const tensors = new Map<string, RawTensor>();
  for (const tensor of [...event.inputs, ...event.outputs]) if (!tensors.has(tensor.name)) tensors.set(tensor.name, tensor);
  return tensors;
}

/** The rows of an event: the first dimension of the first tensor a column reads (of its first tensor when none does). */
function rowCountOf(event: PredictionLoggedEvent, columns: readonly MonitoredColumnRow[] = []): number {
  const tensors = tensorsByName(event);
  for (const column of columns) {
    const tensor = tensors.get(column.tensor);
    if (tensor) return rowsOf(tensor);
  }
  const first = event.inputs[0] ?? event.outputs[0];
  return first ? rowsOf(first) : 0;
}

function max(values: Float64Array): number {
  let out = -Infinity;
  for (const value of values) if (value > out) out = value;
  return out;
}

function min(values: Float64Array): number {
  let out = Infinity;
  for (const value of values) if (value < out) out = value;
  return out;
}
