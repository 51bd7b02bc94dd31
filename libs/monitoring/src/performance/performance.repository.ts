import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
import { DataSource, In, LessThan, type EntityManager } from 'typeorm';
import { MonitorEntity, type StoredPerformance } from '../monitors/monitor.entity';
import { NO_COUNTS, type PerformanceCounts } from './performance-metrics';
import { LabelEntity, PredictedRowEntity, WindowPerformanceEntity } from './performance.entity';
import type { WindowPerformance } from './window-performance';

/** Rows per INSERT statement: 7 parameters a row stays far below SQLite's 32,766 bound values. */
const ROWS_PER_STATEMENT = 1000;

/** A label as stored, without the time it was posted. */
export type LabelRow = Omit<LabelEntity, 'postedAt'>;

/** A recorded prediction that a posted label matched. */
export interface MatchedPrediction {
  monitorId: string;
  seq: number;
  requestId: string;
  row: number;
}

/** A closed window's seq range, as the ledger recorded it. */
export type WindowRange = Pick<WindowPerformanceEntity, 'monitorId' | 'number' | 'firstSeq' | 'lastSeq' | 'closedAt'>;

/** The last window with labels of one monitor, for the gauges. */
export interface LatestPerformance {
  monitorId: string;
  projectId: string;
  monitorName: string;
  spec: StoredPerformance;
  number: number;
  performance: WindowPerformance;
}

/** Reads and writes labels, predicted rows and window performance; the only part of the feature that knows SQL. */
@Injectable()
export class PerformanceRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction. */
  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * The monitors of an endpoint, their rows locked until `tx` ends (in id order, so two callers
   * never wait on each other crosswise): labels and window closes of a monitor take turns, and
   * each sees what the other wrote.
   */
  monitorsOfEndpoint(tx: EntityManager, projectId: string, endpointName: string): Promise<MonitorEntity[]> {
    return tx.find(MonitorEntity, { where: { projectId, endpointName }, order: { id: 'ASC' }, ...Dialect.of(tx).lockForUpdate<MonitorEntity>() });
  }

  /** Locks the monitor's row until `tx` ends (see monitorsOfEndpoint). */
  async lockMonitor(tx: EntityManager, monitorId: string): Promise<void> {
    const params = Dialect.of(tx).parameters();
    await tx.query(`SELECT id FROM ${tableOf(tx, MonitorEntity)} WHERE id = ${params.bind(monitorId)}${Dialect.of(tx).forUpdate}`, params.values);
  }

  /** Inserts or replaces labels by (project, endpoint, request id, row); each key at most once. */
  async upsertLabels(tx: EntityManager, labels: readonly LabelRow[], postedAt: number): Promise<void> {
    const dialect = Dialect.of(tx);
    const columns = ['project_id', 'endpoint_name', 'request_id', 'row_index', 'label_class', 'label_value', 'posted_at'];
    const updates = ['label_class = excluded.label_class', 'label_value = excluded.label_value', 'posted_at = excluded.posted_at'];
    for (let start = 0; start < labels.length; start += ROWS_PER_STATEMENT) {
      const chunk = labels.slice(start, start + ROWS_PER_STATEMENT);
      const values = chunk.flatMap((label) => [label.projectId, label.endpointName, label.requestId, label.row, label.labelClass, label.labelValue, postedAt]);
      await tx.query(dialect.upsert(tableOf(tx, LabelEntity), columns, chunk.length, ['project_id', 'endpoint_name', 'request_id', 'row_index'], updates), values);
    }
  }

  /** The recorded predictions of these monitors with one of these request ids (every row of those requests). */
  async predictionsOf(tx: EntityManager, monitorIds: readonly string[], requestIds: readonly string[]): Promise<MatchedPrediction[]> {
    if (monitorIds.length === 0 || requestIds.length === 0) return [];
    const params = Dialect.of(tx).parameters();
    const rows: Array<{ monitor_id: string; seq: string | number; request_id: string; row_index: number }> = await tx.query(
      `SELECT monitor_id, seq, request_id, row_index FROM ${tableOf(tx, PredictedRowEntity)} WHERE ${params.inList('monitor_id', monitorIds)} AND ${params.inList('request_id', requestIds)}`,
      params.values,
    );
    return rows.map((row) => ({ monitorId: row.monitor_id, seq: Number(row.seq), requestId: row.request_id, row: Number(row.row_index) }));
  }

  /** Records a monitor's predicted rows; a seq recorded already is kept as it is. */
  async insertPredictions(tx: EntityManager, rows: readonly PredictedRowEntity[]): Promise<void> {
    const dialect = Dialect.of(tx);
    const columns = ['monitor_id', 'seq', 'request_id', 'row_index', 'answered_at', 'predicted_class', 'predicted_value'];
    for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
      const values = chunk.flatMap((row) => [row.monitorId, row.seq, row.requestId, row.row, row.answeredAt, row.predictedClass, row.predictedValue]);
      await tx.query(dialect.upsert(tableOf(tx, PredictedRowEntity), columns, chunk.length, ['monitor_id', 'seq']), values);
    }
  }

  /** Stores a window with its performance, replacing what a window of that number held. */
  async upsertWindow(tx: EntityManager, window: WindowPerformanceEntity): Promise<void> {
    await tx.upsert(WindowPerformanceEntity, window, ['monitorId', 'number']);
  }

  /** Replaces a stored window's performance. */
  async updatePerformance(tx: EntityManager, monitorId: string, number: number, performance: WindowPerformance): Promise<void> {
    await tx.update(WindowPerformanceEntity, { monitorId, number }, performance);
  }

  /** The monitor's windows whose seq range meets [fromSeq, toSeq], in window order, locked until `tx` ends. */
  async windowsMeeting(tx: EntityManager, monitorId: string, fromSeq: number, toSeq: number): Promise<WindowRange[]> {
    const params = Dialect.of(tx).parameters();
    const rows: Array<{ number: string | number; first_seq: string | number; last_seq: string | number; closed_at: string | number }> = await tx.query(
      `SELECT number, first_seq, last_seq, closed_at FROM ${tableOf(tx, WindowPerformanceEntity)}
       WHERE monitor_id = ${params.bind(monitorId)} AND last_seq >= ${params.bind(fromSeq)} AND first_seq <= ${params.bind(toSeq)}
       ORDER BY number${Dialect.of(tx).forUpdate}`,
      params.values,
    );
    return rows.map((row) => ({ monitorId, number: Number(row.number), firstSeq: Number(row.first_seq), lastSeq: Number(row.last_seq), closedAt: Number(row.closed_at) }));
  }

  /**
   * Adds up the monitor's predicted rows `firstSeq`..`lastSeq` joined with their labels: one
   * aggregate query, whatever the window's size. Classes compare as text.
   */
  async countsOf(tx: EntityManager, monitor: MonitorEntity, firstSeq: number, lastSeq: number, positiveClass: string): Promise<PerformanceCounts> {
    const params = Dialect.of(tx).parameters();
    const error = '(l.label_value - p.predicted_value)';
    const [row]: Array<Record<keyof PerformanceCounts, string | number | null>> = await tx.query(
      `SELECT COUNT(*) AS labeled,
         SUM(CASE WHEN l.label_class = p.predicted_class THEN 1 ELSE 0 END) AS correct,
         SUM(CASE WHEN p.predicted_class = ${params.bind(positiveClass)} AND l.label_class = p.predicted_class THEN 1 ELSE 0 END) AS "truePositives",
         SUM(CASE WHEN p.predicted_class = ${params.bind(positiveClass)} THEN 1 ELSE 0 END) AS "predictedPositives",
         SUM(CASE WHEN l.label_class = ${params.bind(positiveClass)} THEN 1 ELSE 0 END) AS "labeledPositives",
         COUNT(${error}) AS "regressionRows",
         SUM(ABS(${error})) AS "absoluteErrors",
         SUM(${error} * ${error}) AS "squaredErrors"
       FROM ${tableOf(tx, PredictedRowEntity)} p
       JOIN ${tableOf(tx, LabelEntity)} l ON l.project_id = ${params.bind(monitor.projectId)} AND l.endpoint_name = ${params.bind(monitor.endpointName)}
         AND l.request_id = p.request_id AND l.row_index = p.row_index
       WHERE p.monitor_id = ${params.bind(monitor.id)} AND p.seq >= ${params.bind(firstSeq)} AND p.seq <= ${params.bind(lastSeq)}`,
      params.values,
    );
    const counts = { ...NO_COUNTS };
    for (const key of Object.keys(counts) as Array<keyof PerformanceCounts>) counts[key] = Number(row?.[key] ?? 0);
    return counts;
  }

  /** The stored performance of those windows of the monitor that have labelled rows. */
  windowsWithLabels(monitorId: string, numbers: readonly number[]): Promise<WindowPerformanceEntity[]> {
    if (numbers.length === 0) return Promise.resolve([]);
    return this.transaction(async (tx) => (await tx.find(WindowPerformanceEntity, { where: { monitorId, number: In([...numbers]) } })).filter((window) => window.labeledRows > 0));
  }

  /** Each monitor's last window with labelled rows, with what the gauges label it by. */
  async latestPerformance(): Promise<LatestPerformance[]> {
    const rows: Array<Record<string, string | number | null>> = await this.transaction((tx) => {
      const windows = tableOf(tx, WindowPerformanceEntity);
      return tx.query(
        `SELECT w.monitor_id, m.project_id, m.name, m.performance, w.number, w.labeled_rows, w.accuracy, w.precision_score, w.recall_score, w.f1_score, w.mae, w.rmse
         FROM (SELECT monitor_id, MAX(number) AS number FROM ${windows} WHERE labeled_rows > 0 GROUP BY monitor_id) last
         JOIN ${windows} w ON w.monitor_id = last.monitor_id AND w.number = last.number
         JOIN ${tableOf(tx, MonitorEntity)} m ON m.id = w.monitor_id
         ORDER BY w.monitor_id`,
      );
    });
    return rows.flatMap((row) => {
      const spec = row.performance ? (JSON.parse(String(row.performance)) as StoredPerformance | null) : null;
      if (!spec) return [];
      return [
        {
          monitorId: String(row.monitor_id),
          projectId: String(row.project_id),
          monitorName: String(row.name),
          spec,
          number: Number(row.number),
          performance: {
            labeledRows: Number(row.labeled_rows),
            accuracy: Number(row.accuracy),
            precision: Number(row.precision_score),
            recall: Number(row.recall_score),
            f1: Number(row.f1_score),
            mae: Number(row.mae),
            rmse: Number(row.rmse),
          },
        },
      ];
    });
  }

  /** Removes a monitor's predicted rows and window performance (its endpoint's labels stay). */
  async deleteMonitorRows(tx: EntityManager, monitorId: string): Promise<void> {
    await tx.delete(PredictedRowEntity, { monitorId });
    await tx.delete(WindowPerformanceEntity, { monitorId });
  }

  /** Deletes labels posted and predictions answered before `before` (epoch ms); how many of each went. */
  prune(before: number): Promise<{ labels: number; predictions: number }> {
    return this.transaction(async (tx) => ({
      labels: (await tx.delete(LabelEntity, { postedAt: LessThan(before) })).affected ?? 0,
      predictions: (await tx.delete(PredictedRowEntity, { answeredAt: LessThan(before) })).affected ?? 0,
    }));
  }
}
