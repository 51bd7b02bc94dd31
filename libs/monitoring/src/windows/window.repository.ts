import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, type EntityManager } from 'typeorm';
import { MonitorEntity, MonitorReferenceEntity, type MonitoredColumnRow } from '../monitors/monitor.entity';
import { MonitorColumnResultEntity, MonitorWindowEntity } from './window.entity';

/** A monitor's place in its stream of rows, as `monitor_streams` holds it. */
export interface StreamState {
  monitorId: string;
  /** The number the next row consumed gets. */
  nextSeq: number;
  /** The number of the next window to close. */
  nextWindow: number;
  /** Time windows: the start of the next window to close; -1 before the first row. */
  nextStartMs: number;
  /** Time windows: the latest answer time consumed. */
  watermarkMs: number;
  /** The columns rows are read into while a log-window reference fills. */
  columns: MonitoredColumnRow[];
  skippedRows: number;
  lateRows: number;
}

/** A stored chunk, its payload still packed. */
export interface StoredChunk {
  firstSeq: number;
  count: number;
  payload: Uint8Array;
}

/** Reads and writes the windows feature's tables; the only part of the feature that knows SQL. */
@Injectable()
export class WindowRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The active monitors of these endpoints and the pending ones (whose rows fill a log-window reference or are skipped). */
  monitorsOf(tx: EntityManager, endpoints: ReadonlyArray<{ projectId: string; endpointName: string }>): Promise<MonitorEntity[]> {
    if (endpoints.length === 0) return Promise.resolve([]);
    return tx.find(MonitorEntity, { where: endpoints.map(({ projectId, endpointName }) => ({ projectId, endpointName, state: In(['active', 'pending']) })) });
  }

  /** The monitor with this id, read in a transaction of its own (SQLite shares one connection between callers). */
  findMonitor(id: string): Promise<MonitorEntity | null> {
    return this.transaction((tx) => tx.findOneBy(MonitorEntity, { id }));
  }

  monitorsById(tx: EntityManager, ids: readonly string[]): Promise<MonitorEntity[]> {
    return ids.length ? tx.find(MonitorEntity, { where: { id: In([...ids]) } }) : Promise.resolve([]);
  }

  /**
   * The stream state of each monitor, created at the start for one that has none, each row locked
   * until `tx` ends (in id order, so two replicas never wait on each other in a cycle).
   */
  async lockStreams(tx: EntityManager, monitorIds: readonly string[]): Promise<Map<string, StreamState>> {
    const ids = [...new Set(monitorIds)].sort();
    if (ids.length === 0) return new Map();
    const dialect = Dialect.of(tx);
    const columns = ['monitor_id', 'next_seq', 'next_window', 'next_start_ms', 'watermark_ms', 'columns', 'skipped_rows', 'late_rows'];
    await tx.query(dialect.upsert('monitor_streams', columns, ids.length, ['monitor_id']), ids.flatMap((id) => [id, 1, 1, -1, 0, '[]', 0, 0]));
    const parameters = dialect.parameters();
    const rows: StreamRow[] = await tx.query(
      `SELECT ${columns.join(', ')} FROM monitor_streams WHERE ${parameters.inList('monitor_id', ids)} ORDER BY monitor_id${dialect.forUpdate}`,
      parameters.values,
    );
    return new Map(rows.map((row) => [row.monitor_id, streamOf(row)]));
  }

  async saveStream(tx: EntityManager, state: StreamState): Promise<void> {
    const dialect = Dialect.of(tx);
    const p = (index: number) => dialect.placeholder(index);
    await tx.query(
      `UPDATE monitor_streams SET next_seq = ${p(1)}, next_window = ${p(2)}, next_start_ms = ${p(3)}, watermark_ms = ${p(4)}, columns = ${p(5)}, skipped_rows = ${p(6)}, late_rows = ${p(7)} WHERE monitor_id = ${p(8)}`,
      [state.nextSeq, state.nextWindow, state.nextStartMs, state.watermarkMs, JSON.stringify(state.columns), state.skippedRows, state.lateRows, state.monitorId],
    );
  }

  async appendChunk(tx: EntityManager, monitorId: string, firstSeq: number, count: number, lastAnsweredMs: number, payload: Uint8Array): Promise<void> {
    const p = (index: number) => Dialect.of(tx).placeholder(index);
    await tx.query(`INSERT INTO monitor_chunks (monitor_id, first_seq, row_count, last_answered_ms, payload) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`, [
      monitorId,
      firstSeq,
      count,
      lastAnsweredMs,
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    ]);
  }

  /** The chunks holding any row from `firstSeq` to `lastSeq`, in row order. */
  async chunksOfSeq(tx: EntityManager, monitorId: string, firstSeq: number, lastSeq: number): Promise<StoredChunk[]> {
    const p = (index: number) => Dialect.of(tx).placeholder(index);
    const rows: ChunkRow[] = await tx.query(
      `SELECT first_seq, row_count, payload FROM monitor_chunks WHERE monitor_id = ${p(1)} AND first_seq <= ${p(2)} AND first_seq + row_count > ${p(3)} ORDER BY first_seq`,
      [monitorId, lastSeq, firstSeq],
    );
    return rows.map(chunkOf);
  }

  /** The chunks holding any row answered at or after `fromMs`, in row order. */
  async chunksSince(tx: EntityManager, monitorId: string, fromMs: number): Promise<StoredChunk[]> {
    const p = (index: number) => Dialect.of(tx).placeholder(index);
    const rows: ChunkRow[] = await tx.query(
      `SELECT first_seq, row_count, payload FROM monitor_chunks WHERE monitor_id = ${p(1)} AND last_answered_ms >= ${p(2)} ORDER BY first_seq`,
      [monitorId, fromMs],
    );
    return rows.map(chunkOf);
  }

  /** Removes the chunks whose rows all come before `seq`. */
  async deleteChunksBeforeSeq(tx: EntityManager, monitorId: string, seq: number): Promise<void> {
    const p = (index: number) => Dialect.of(tx).placeholder(index);
    await tx.query(`DELETE FROM monitor_chunks WHERE monitor_id = ${p(1)} AND first_seq + row_count <= ${p(2)}`, [monitorId, seq]);
  }

  /** Removes the chunks whose rows were all answered before `ms`. */
  async deleteChunksBefore(tx: EntityManager, monitorId: string, ms: number): Promise<void> {
    const p = (index: number) => Dialect.of(tx).placeholder(index);
    await tx.query(`DELETE FROM monitor_chunks WHERE monitor_id = ${p(1)} AND last_answered_ms < ${p(2)}`, [monitorId, ms]);
  }

  async insertWindow(tx: EntityManager, window: MonitorWindowEntity, results: MonitorColumnResultEntity[]): Promise<void> {
    await tx.insert(MonitorWindowEntity, window);
    // SQLite binds at most 32,766 values a statement: 13 columns, well under 2,000 rows.
    for (let at = 0; at < results.length; at += 1000) await tx.insert(MonitorColumnResultEntity, results.slice(at, at + 1000));
    const p = (index: number) => Dialect.of(tx).placeholder(index);
    await tx.query(`UPDATE monitors SET windows_closed = windows_closed + 1 WHERE id = ${p(1)}`, [window.monitorId]);
  }

  /**
   * Marks a monitor FAILED with `message`, when its log-window reference cannot be filled; the only
   * write of the feature to a monitor besides its count of windows.
   */
  async failMonitor(tx: EntityManager, monitorId: string, message: string): Promise<void> {
    await tx.update(MonitorEntity, { id: monitorId }, { state: 'failed', stateMessage: message, updatedAt: Date.now() });
  }

  references(tx: EntityManager, monitorId: string): Promise<MonitorReferenceEntity[]> {
    return tx.find(MonitorReferenceEntity, { where: { monitorId } });
  }

  /** Monitors of time windows whose next window ended before `endedBeforeMs` (their end plus the grace). */
  async timeWindowsDue(endedBeforeMs: number): Promise<string[]> {
    return this.transaction(async (tx) => {
      const p = (index: number) => Dialect.of(tx).placeholder(index);
      const rows: Array<{ monitor_id: string }> = await tx.query(
        `SELECT s.monitor_id FROM monitor_streams s JOIN monitors m ON m.id = s.monitor_id
          WHERE m.state = 'active' AND m.window_seconds > 0 AND s.next_start_ms >= 0 AND s.next_start_ms + m.window_seconds * 1000 <= ${p(1)}`,
        [endedBeforeMs],
      );
      return rows.map((row) => row.monitor_id);
    });
  }

  /** Up to `limit` of a monitor's windows after number `after`, closed in `[fromMs, toMs)`, in number order, with their results. */
  page(monitorId: string, after: number, fromMs: number, toMs: number, limit: number): Promise<Array<{ window: MonitorWindowEntity; results: MonitorColumnResultEntity[] }>> {
    return this.transaction(async (tx) => {
      const windows = await tx
        .createQueryBuilder(MonitorWindowEntity, 'w')
        .where('w.monitor_id = :monitorId AND w.number > :after AND w.closed_at >= :fromMs AND w.closed_at < :toMs', { monitorId, after, fromMs, toMs })
        .orderBy('w.number', 'ASC')
        .take(limit)
        .getMany();
      if (windows.length === 0) return [];
      const results = await tx.find(MonitorColumnResultEntity, {
        where: { monitorId, windowNumber: In(windows.map((window) => window.number)) },
        order: { windowNumber: 'ASC', position: 'ASC' },
      });
      const byWindow = new Map<number, MonitorColumnResultEntity[]>(windows.map((window) => [window.number, []]));
      for (const result of results) byWindow.get(result.windowNumber)?.push(result);
      return windows.map((window) => ({ window, results: byWindow.get(window.number) ?? [] }));
    });
  }

  /** Removes everything the feature keeps of a monitor. */
  async deleteMonitor(tx: EntityManager, monitorId: string): Promise<void> {
    const p = Dialect.of(tx).placeholder(1);
    for (const table of ['monitor_column_results', 'monitor_windows', 'monitor_chunks', 'monitor_streams']) {
      await tx.query(`DELETE FROM ${table} WHERE monitor_id = ${p}`, [monitorId]);
    }
  }
}

interface StreamRow {
  monitor_id: string;
  next_seq: string | number;
  next_window: string | number;
  next_start_ms: string | number;
  watermark_ms: string | number;
  columns: string;
  skipped_rows: string | number;
  late_rows: string | number;
}

interface ChunkRow {
  first_seq: string | number;
  row_count: string | number;
  payload: Uint8Array;
}

function streamOf(row: StreamRow): StreamState {
  return {
    monitorId: row.monitor_id,
    nextSeq: Number(row.next_seq),
    nextWindow: Number(row.next_window),
    nextStartMs: Number(row.next_start_ms),
    watermarkMs: Number(row.watermark_ms),
    columns: JSON.parse(row.columns) as MonitoredColumnRow[],
    skippedRows: Number(row.skipped_rows),
    lateRows: Number(row.late_rows),
  };
}

function chunkOf(row: ChunkRow): StoredChunk {
  return { firstSeq: Number(row.first_seq), count: Number(row.row_count), payload: row.payload };
}
