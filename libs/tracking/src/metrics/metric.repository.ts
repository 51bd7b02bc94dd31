import { Injectable } from '@nestjs/common';
import { decodePageToken, Dialect, encodePageToken, FailedPreconditionError, SEQUENCE_POSITION, sqliteColumn } from '@trellis/platform';
import { DataSource, type EntityManager } from 'typeorm';
import { runNotActive } from '../runs/run-errors';
import { appendTo, identityOf, mayRepeat, type PointColumns, type RollupDelta, type SeriesState } from './metric-append';
import {
  bucketWidth,
  Buckets,
  byStep,
  coverage,
  evenSteps,
  levelFor,
  ROLLUP_SIZES,
  type BlockRange,
  type SeriesColumns,
  type SeriesPoint,
} from './metric-sampling';

/** One point of a metric as clients log and read it. */
export interface MetricPoint {
  key: string;
  value: number;
  timestampMs: number;
  step: number;
}

/** One page of a series in logged order. */
export interface MetricHistoryPage {
  points: SeriesColumns;
  /** '' on the last page. */
  nextPageToken: string;
}

/** What {@link MetricRepository.sample} reads: a step range (both ends included) cut to about `maxPoints`. */
export interface SampleRange {
  startStep?: number;
  endStep?: number;
  /** At least 2. */
  maxPoints: number;
}

/** A downsampled series and how many points its range held. */
export interface SampledMetric {
  points: SeriesColumns;
  totalPoints: number;
}

/** The points of a series a sample covers: seq from `low` to `high`, only those in `steps` unless contiguous. */
interface Scope {
  seriesId: number;
  pointCount: number;
  low: number;
  high: number;
  total: number;
  /** Every point from low to high is in the step range. */
  contiguous: boolean;
  steps: { sql: string; params: number[] };
}

type Row = Record<string, unknown>;

const POINT_COLUMNS = 'seq, step, "timestamp", value';
const SERIES_COLUMNS = 'id, key, point_count, latest_value, latest_step, latest_timestamp, max_step, monotonic';
const ROLLUP_COLUMNS =
  'series_id, level, block, count, min_value, min_seq, min_step, min_timestamp, max_value, max_seq, max_step, max_timestamp, first_step, last_step, earliest_timestamp, latest_timestamp';
const ROLLUP_TYPES = ['int', 'int', 'bigint', 'int', 'float8', 'bigint', 'bigint', 'bigint', 'float8', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint'];
const SERIES_UPDATE_COLUMNS = 'id, point_count, latest_value, latest_step, latest_timestamp, max_step, monotonic';
const SERIES_UPDATE_TYPES = ['int', 'bigint', 'float8', 'bigint', 'bigint', 'bigint', 'bool'];
/** The rollup level that locates a step in a series whose steps never decrease: blocks of 1024. */
const LOCATING_LEVEL = 1;
/** Rows per multi-row statement on SQLite, well under its limit of 32766 bound values. */
const SQLITE_ROWS = 500;

/**
 * Metric series of runs: appends points in logged order and reads them back whole, paged, streamed
 * or downsampled. Ingest keeps per-series totals and per-block rollups in the same transaction, so
 * a sample reads rollups and at most a few dozen points, except for a step range of a series whose
 * steps went backwards. Metric points publish no events (high-volume streams skip the outbox).
 */
@Injectable()
export class MetricRepository {
  private readonly dialect: Dialect;
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.dialect = Dialect.of(dataSource);
    this.postgres = this.dialect.isPostgres;
  }

  /**
   * Appends `points` (validated, in logged order) to the run's series, creating missing ones,
   * inside the caller's transaction `manager`: two statements on PostgreSQL whatever the number of
   * keys, three when points may repeat stored ones. A point identical to one the series holds, or
   * to an earlier one of the batch (see {@link identityOf}), is left out, as MLflow stores it once:
   * a retried batch changes nothing. Appends to the same series from concurrent transactions queue
   * on the series row (at READ COMMITTED), so each point gets its own seq, in commit order, and a
   * batch appended by two at once is stored by the first.
   */
  async append(manager: EntityManager, runId: string, points: ReadonlyArray<MetricPoint>): Promise<void> {
    if (points.length === 0) return;
    const byKey = new Map<string, Map<string, MetricPoint>>();
    for (const point of points) {
      let list = byKey.get(point.key);
      if (!list) byKey.set(point.key, (list = new Map()));
      const identity = identityOf(point);
      // The first of identical points in the batch is the one kept.
      if (!list.has(identity)) list.set(identity, point);
    }
    // Sorted, so concurrent appends lock the series rows they share in the same order.
    const series = await this.lockSeries(manager, runId, [...byKey.keys()].sort());
    const stored = await this.storedAmong(manager, series, byKey);
    const columns: PointColumns = { seriesId: [], seq: [], step: [], timestamp: [], value: [] };
    const rollups: RollupDelta[] = [];
    const updated = series.map((current) => {
      const fresh = [...(byKey.get(current.key)?.entries() ?? [])].filter(([identity]) => !stored.has(`${current.id}:${identity}`));
      return appendTo(current, fresh.map(([, point]) => point), columns, rollups);
    });
    if (columns.seq.length === 0) return;
    if (this.postgres) await this.writePostgres(manager, columns, rollups, updated);
    else await this.writeSqlite(manager, columns, rollups, updated);
  }

  /**
   * The latest point of every metric of each of `runIds` (highest step, then timestamp, then
   * value, as MLflow), in one query, each run's sorted by key. Runs without metrics are absent.
   */
  async latestFor(runIds: readonly string[], manager?: EntityManager): Promise<Map<string, MetricPoint[]>> {
    const latest = new Map<string, MetricPoint[]>();
    if (runIds.length === 0) return latest;
    const run = <T>(query: (m: EntityManager) => Promise<T>) => (manager ? query(manager) : this.read(query));
    // One JSON array per run: a page of 1000 runs has some 10,000 series, and parsing that many rows
    // cost more than the query. PostgreSQL's JSON spells NaN and the infinities as strings, SQLite's
    // has null for NaN: valueOf reads them all.
    const { dialect } = this;
    const parameters = dialect.parameters();
    const series = dialect.aggregateInput(
      `SELECT run_id, key, latest_value, latest_step, latest_timestamp FROM metric_series WHERE ${parameters.inList('run_id', runIds)}`,
      'run_id, key',
    );
    const rows = (await run((m) =>
      m.query(
        `SELECT run_id, ${dialect.jsonArrayAgg(dialect.jsonArray('key', 'latest_value', 'latest_step', 'latest_timestamp'), 'key')} AS points FROM ${series} AS latest GROUP BY run_id`,
        parameters.values,
      ),
    )) as Array<{ run_id: string; points: string }>;
    for (const row of rows) {
      const points = JSON.parse(row.points) as Array<[string, number | string | null, number, number]>;
      latest.set(row.run_id, points.map(([key, value, step, timestampMs]) => ({ key, value: valueOf(value), step, timestampMs })));
    }
    return latest;
  }

  /**
   * One page of the series in logged order, `pageSize` points at most; an empty page for a key
   * the run never logged. INVALID_ARGUMENT naming `page_token` for a token of another series.
   */
  async history(runId: string, key: string, page: { pageSize: number; pageToken: string }): Promise<MetricHistoryPage> {
    const query = { run_id: runId, key };
    const from = Number(decodePageToken(page.pageToken, query, SEQUENCE_POSITION) ?? 0);
    return this.read(async (m) => {
      const series = await this.findSeries(m, runId, key);
      const to = Math.min(series?.pointCount ?? 0, from + page.pageSize);
      if (!series || to <= from) return { points: noPoints(), nextPageToken: '' };
      const points = await this.columnsOf(m, 'FROM metric_points WHERE series_id = ? AND seq >= ? AND seq < ? ORDER BY seq', [series.id, from, to]);
      return { points, nextPageToken: to < series.pointCount ? encodePageToken(String(to), query) : '' };
    });
  }

  /**
   * The whole series as it was when reading started, in logged order, in chunks of `chunkSize`
   * points. Each chunk is a keyset read on its own: nothing is held between chunks but the
   * position, so memory stays flat however long the series and however slow the consumer.
   */
  async *stream(runId: string, key: string, chunkSize = 10_000): AsyncGenerator<SeriesColumns> {
    const series = await this.read((m) => this.findSeries(m, runId, key));
    if (!series) return;
    for (let next = 0; next < series.pointCount; ) {
      const to = Math.min(series.pointCount, next + chunkSize);
      const points = await this.read((m) => this.columnsOf(m, 'FROM metric_points WHERE series_id = ? AND seq >= ? AND seq < ? ORDER BY seq', [series.id, next, to]));
      if (points.steps.length === 0) return;
      next = to;
      yield points;
    }
  }

  /**
   * The run's series `key` within the step range cut down to about `range.maxPoints` points (see
   * {@link bucketWidth}): each bucket of consecutive points keeps its lowest and highest point
   * (NaN counting as highest), the range's first and last logged points are always kept, and the
   * result is ordered by step, then logged order. A range of at most `maxPoints` points comes back
   * whole. Undefined when the run has no such series.
   *
   * A whole series, or a step range of a series whose steps never decreased, is read from rollups
   * and fewer than 64 points at each end; a step range of any other series scans its points.
   */
  async sample(runId: string, key: string, range: SampleRange): Promise<SampledMetric | undefined> {
    return this.read(async (m) => {
      const series = await this.findSeries(m, runId, key);
      if (!series) return undefined;
      const scope = await this.scopeOf(m, series, range);
      if (scope.total === 0) return { points: noPoints(), totalPoints: 0 };
      const metrics = (points: SeriesPoint[]) => ({ points: columnsFrom(points), totalPoints: scope.total });
      if (scope.total <= range.maxPoints) return metrics(byStep(await this.pointsIn(m, scope, [[scope.low, scope.high]])));
      const ends = await this.pointsIn(m, { ...scope, contiguous: true }, [[scope.low, scope.low], [scope.high, scope.high]]);
      const first = ends[0];
      const last = ends[ends.length - 1];
      if (range.maxPoints < 4) return metrics(byStep(first === last ? [first] : [first, last]));
      const width = bucketWidth(scope.low, scope.high, range.maxPoints);
      const buckets = new Buckets(width);
      const level = levelFor(width);
      const candidates = scope.contiguous && level >= 0 ? await this.rollupExtremes(m, scope, width, level) : await this.pointExtremes(m, scope, width);
      for (const point of candidates) buckets.add(point);
      return metrics(buckets.points(first, last));
    }, true);
  }

  /**
   * The series `key` of each of `runIds` sampled as MLflow's get-history-bulk-interval samples
   * them: of the distinct steps all the series have in the step range, about `range.maxPoints`
   * chosen evenly (see {@link evenSteps}), with each series' own first and last step when they are
   * in the range; every run gets its points at those steps, ordered by step, timestamp and value,
   * so the runs line up step by step. Runs without the series are absent. This reads the steps of
   * the range (a scan of the runs' points), where {@link sample} reads rollups.
   */
  async sampleSteps(runIds: readonly string[], key: string, range: SampleRange): Promise<Map<string, SampledMetric>> {
    return this.read(async (m) => {
      const found: Array<{ runId: string; series: SeriesState }> = [];
      for (const runId of runIds) {
        const series = await this.findSeries(m, runId, key);
        if (series && series.pointCount > 0) found.push({ runId, series });
      }
      const sampled = new Map<string, SampledMetric>();
      if (found.length === 0) return sampled;
      const within = stepRange(range);
      const ids = found.map(({ series }) => series.id);
      const distinct = await this.integers(m, `SELECT DISTINCT step FROM metric_points WHERE series_id IN (${marks(ids.length)})${within.sql} ORDER BY step`, [
        ...ids,
        ...within.params,
      ]);
      const kept = new Set(evenSteps(distinct, range.maxPoints));
      for (const { series } of found) {
        for (const step of await this.stepBounds(m, series)) if (within.includes(step)) kept.add(step);
      }
      const steps = [...kept].sort((a, b) => a - b);
      const order = 'ORDER BY step, "timestamp", value';
      for (const { runId, series } of found) {
        const { total } = await this.scopeOf(m, series, range);
        // One scan finds the points at those steps; the columns are then read by primary key.
        const seqs = steps.length === 0 ? [] : await this.integers(m, `SELECT seq FROM metric_points WHERE series_id = ? AND step IN (${marks(steps.length)}) ${order}`, [series.id, ...steps]);
        const points = seqs.length === 0 ? noPoints() : await this.columnsOf(m, `FROM metric_points WHERE series_id = ? AND seq IN (${marks(seqs.length)}) ${order}`, [series.id, ...seqs]);
        sampled.set(runId, { points, totalPoints: total });
      }
      return sampled;
    }, true);
  }

  /**
   * Creates or locks the batch's series and returns their counts. Only an active run takes points:
   * the run's state is checked in the same statement (PostgreSQL) or transaction (SQLite), so the
   * caller needs no separate read of the run.
   */
  private async lockSeries(manager: EntityManager, runId: string, keys: string[]): Promise<SeriesState[]> {
    // The no-op update makes the upsert lock and return existing rows as well as new ones.
    const upsert = `ON CONFLICT (run_id, key) DO UPDATE SET point_count = metric_series.point_count RETURNING ${SERIES_COLUMNS}`;
    const insert = 'INSERT INTO metric_series (run_id, key, point_count, latest_value, latest_step, latest_timestamp, max_step, monotonic)';
    if (this.postgres) {
      const rows = (await manager.query(
        `${insert} SELECT $1::varchar, key, 0, 0, 0, 0, 0, true FROM unnest($2::varchar[]) AS key
         WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1::varchar AND lifecycle_stage = 'active') ${upsert}`,
        [runId, keys],
      )) as Row[];
      if (rows.length === 0) throw inactiveRun(runId);
      return rows.map(seriesOf);
    }
    const active = (await manager.query(`SELECT 1 FROM runs WHERE id = ? AND lifecycle_stage = 'active'`, [runId])) as Row[];
    if (active.length === 0) throw inactiveRun(runId);
    const series: SeriesState[] = [];
    for (let i = 0; i < keys.length; i += SQLITE_ROWS) {
      const chunk = keys.slice(i, i + SQLITE_ROWS);
      const values = chunk.map(() => '(?, ?, 0, 0, 0, 0, 0, 1)').join(', ');
      const rows = (await manager.query(`${insert} VALUES ${values} ${upsert}`, chunk.flatMap((key) => [runId, key]))) as Row[];
      series.push(...rows.map(seriesOf));
    }
    return series;
  }

  /**
   * `<series id>:<identity>` of the points stored in the batch's (locked) series within the
   * timestamp span of the batch's points that may repeat one (see {@link mayRepeat}): those of the
   * blocks whose timestamps overlap it, found by the rollups, so a retried batch reads about itself.
   */
  private async storedAmong(manager: EntityManager, series: SeriesState[], byKey: Map<string, Map<string, MetricPoint>>): Promise<Set<string>> {
    const spans: Array<{ seriesId: number; earliest: number; latest: number }> = [];
    for (const current of series) {
      const timestamps = [...(byKey.get(current.key)?.values() ?? [])].filter((point) => mayRepeat(current, point)).map((point) => point.timestampMs);
      if (timestamps.length === 0) continue;
      spans.push({ seriesId: current.id, earliest: timestamps.reduce((a, b) => Math.min(a, b)), latest: timestamps.reduce((a, b) => Math.max(a, b)) });
    }
    const stored = new Set<string>();
    if (spans.length === 0) return stored;
    const size = ROLLUP_SIZES[LOCATING_LEVEL];
    const inSpans = `JOIN metric_rollups r ON r.series_id = c.series_id AND r.level = ${LOCATING_LEVEL} AND r.earliest_timestamp <= c.latest AND r.latest_timestamp >= c.earliest
       JOIN metric_points p ON p.series_id = c.series_id AND p.seq >= r.block * ${size} AND p.seq < (r.block + 1) * ${size} AND p."timestamp" BETWEEN c.earliest AND c.latest`;
    const select = 'SELECT p.series_id, p.step, p."timestamp", p.value';
    const rows = (
      this.postgres
        ? await manager.query(`${select} FROM unnest($1::int[], $2::bigint[], $3::bigint[]) AS c(series_id, earliest, latest) ${inSpans}`, [
            pgArray(spans.map((span) => span.seriesId)),
            pgArray(spans.map((span) => span.earliest)),
            pgArray(spans.map((span) => span.latest)),
          ])
        : await manager.query(
            `WITH c(series_id, earliest, latest) AS (VALUES ${spans.map(() => '(?, ?, ?)').join(', ')}) ${select} FROM c ${inSpans}`,
            spans.flatMap((span) => [span.seriesId, span.earliest, span.latest]),
          )
    ) as Row[];
    for (const row of rows) {
      const point = { step: Number(row['step']), timestampMs: Number(row['timestamp']), value: valueOf(row['value']) };
      stored.add(`${Number(row['series_id'])}:${identityOf(point)}`);
    }
    return stored;
  }

  /** Points, rollups and series in one statement: one round trip per append after the lock. */
  private async writePostgres(manager: EntityManager, columns: PointColumns, rollups: RollupDelta[], series: SeriesState[]): Promise<void> {
    const unnest = (types: string[], offset: number) => `unnest(${types.map((type, i) => `$${offset + i + 1}::${type}[]`).join(', ')})`;
    const rollupRows = rollups.map(rollupValues);
    const seriesRows = series.map(seriesValues);
    await manager.query(
      `WITH points AS (
         INSERT INTO metric_points (series_id, seq, step, "timestamp", value) SELECT * FROM ${unnest(['int', 'bigint', 'bigint', 'bigint', 'float8'], 0)}
       ), rollups AS (
         INSERT INTO metric_rollups (${ROLLUP_COLUMNS}) SELECT * FROM ${unnest(ROLLUP_TYPES, 5)} ${rollupMerge(this.dialect)}
       )
       UPDATE metric_series AS s SET ${seriesAssignments()}
       FROM ${unnest(SERIES_UPDATE_TYPES, 5 + ROLLUP_TYPES.length)} AS u(${SERIES_UPDATE_COLUMNS}) WHERE s.id = u.id`,
      [
        ...[columns.seriesId, columns.seq, columns.step, columns.timestamp, columns.value].map(pgArray),
        ...ROLLUP_TYPES.map((_, i) => pgArray(rollupRows.map((row) => row[i]))),
        ...SERIES_UPDATE_TYPES.map((_, i) => pgArray(seriesRows.map((row) => row[i]))),
      ],
    );
  }

  private async writeSqlite(manager: EntityManager, columns: PointColumns, rollups: RollupDelta[], series: SeriesState[]): Promise<void> {
    await sqliteRows(manager, columns.seq.length, 5, (i) => [columns.seriesId[i], columns.seq[i], columns.step[i], columns.timestamp[i], columns.value[i]], (values) =>
      `INSERT INTO metric_points (series_id, seq, step, "timestamp", value) VALUES ${values}`,
    );
    await sqliteRows(manager, rollups.length, ROLLUP_TYPES.length, (i) => rollupValues(rollups[i]), (values) =>
      `INSERT INTO metric_rollups (${ROLLUP_COLUMNS}) VALUES ${values} ${rollupMerge(this.dialect)}`,
    );
    await sqliteRows(manager, series.length, SERIES_UPDATE_TYPES.length, (i) => seriesValues(series[i]).map(Number), (values) =>
      `WITH u(${SERIES_UPDATE_COLUMNS}) AS (VALUES ${values}) UPDATE metric_series SET ${seriesAssignments()} FROM u WHERE metric_series.id = u.id`,
    );
  }

  /**
   * The step, timestamp and value of the points `from` (`FROM ... ORDER BY ...`) selects, as
   * columns. On SQLite each column is one statement whose values come back as one array, integers
   * as plain numbers: steps and timestamps were checked to be safe integers when they were logged.
   */
  private async columnsOf(m: EntityManager, from: string, params: unknown[]): Promise<SeriesColumns> {
    if (this.postgres) {
      const rows = (await m.query(this.sql(`SELECT step, "timestamp", value ${from}`), params)) as Row[];
      const points: SeriesColumns = { steps: new Array(rows.length), timestampsMs: new Array(rows.length), values: new Array(rows.length) };
      for (let i = 0; i < rows.length; i++) {
        points.steps[i] = Number(rows[i]['step']);
        points.timestampsMs[i] = Number(rows[i]['timestamp']);
        points.values[i] = valueOf(rows[i]['value']);
      }
      return points;
    }
    const values = sqliteColumn(m, `SELECT value ${from}`, params) as Array<number | null>;
    for (let i = 0; i < values.length; i++) if (values[i] === null) values[i] = Number.NaN;
    return {
      steps: sqliteColumn(m, `SELECT step ${from}`, params) as number[],
      timestampsMs: sqliteColumn(m, `SELECT "timestamp" ${from}`, params) as number[],
      values: values as number[],
    };
  }

  /** The values of the one integer column `sql` selects. */
  private async integers(m: EntityManager, sql: string, params: unknown[]): Promise<number[]> {
    if (!this.postgres) return sqliteColumn(m, sql, params) as number[];
    const rows = (await m.query(this.sql(sql), params)) as Row[];
    return rows.map((row) => Number(Object.values(row)[0]));
  }

  /** The lowest and highest step of a series that has points. */
  private async stepBounds(m: EntityManager, series: SeriesState): Promise<[number, number]> {
    // While a series is monotonic its first point has its lowest step.
    const lowest = series.monotonic ? 'SELECT step FROM metric_points WHERE series_id = ? AND seq = 0' : 'SELECT min(step) FROM metric_points WHERE series_id = ?';
    const [low] = await this.integers(m, lowest, [series.id]);
    return [low, series.maxStep];
  }

  private async findSeries(m: EntityManager, runId: string, key: string): Promise<SeriesState | undefined> {
    const rows = (await m.query(this.sql(`SELECT ${SERIES_COLUMNS} FROM metric_series WHERE run_id = ? AND key = ?`), [runId, key])) as Row[];
    return rows.length ? seriesOf(rows[0]) : undefined;
  }

  private async scopeOf(m: EntityManager, series: SeriesState, range: SampleRange): Promise<Scope> {
    const { startStep, endStep } = range;
    const last = series.pointCount - 1;
    const scope = { seriesId: series.id, pointCount: series.pointCount, contiguous: true, steps: { sql: '', params: [] as number[] } };
    if (startStep === undefined && endStep === undefined) return { ...scope, low: 0, high: last, total: series.pointCount };
    if (series.monotonic) {
      const low = startStep === undefined ? 0 : await this.locateStep(m, series.id, startStep, 'first');
      const high = endStep === undefined ? last : await this.locateStep(m, series.id, endStep, 'last');
      if (low === undefined || high === undefined || low > high) return { ...scope, low: 0, high: -1, total: 0 };
      return { ...scope, low, high, total: high - low + 1 };
    }
    const steps = stepRange(range);
    const [row] = (await m.query(this.sql(`SELECT count(*) AS n, min(seq) AS low, max(seq) AS high FROM metric_points WHERE series_id = ?${steps.sql}`), [
      series.id,
      ...steps.params,
    ])) as Row[];
    return { ...scope, contiguous: false, steps, low: Number(row['low'] ?? 0), high: Number(row['high'] ?? -1), total: Number(row['n']) };
  }

  /**
   * In a series whose steps never decrease: the first seq whose step is at least `step`, or the
   * last whose step is at most `step`. Rollups name the block; its points give the seq.
   */
  private async locateStep(m: EntityManager, seriesId: number, step: number, end: 'first' | 'last'): Promise<number | undefined> {
    const size = ROLLUP_SIZES[LOCATING_LEVEL];
    const [block, order, aggregate, compare] = end === 'first' ? ['last_step >= ?', 'block', 'min', '>='] : ['first_step <= ?', 'block DESC', 'max', '<='];
    const [row] = (await m.query(
      this.sql(
        `SELECT ${aggregate}(p.seq) AS seq FROM metric_points p
         JOIN (SELECT block FROM metric_rollups WHERE series_id = ? AND level = ${LOCATING_LEVEL} AND ${block} ORDER BY ${order} LIMIT 1) b
           ON p.seq >= b.block * ${size} AND p.seq < (b.block + 1) * ${size}
         WHERE p.series_id = ? AND p.step ${compare} ?`,
      ),
      [seriesId, step, seriesId, step],
    )) as Row[];
    return row?.['seq'] === null || row?.['seq'] === undefined ? undefined : Number(row['seq']);
  }

  /** The points of `scope` whose seq lies in one of `spans` (inclusive), in seq order. */
  private async pointsIn(m: EntityManager, scope: Scope, spans: Array<[number, number]>): Promise<SeriesPoint[]> {
    const seqs = spans.map(() => 'seq BETWEEN ? AND ?').join(' OR ');
    const steps = scope.contiguous ? { sql: '', params: [] } : scope.steps;
    const rows = (await m.query(this.sql(`SELECT ${POINT_COLUMNS} FROM metric_points WHERE series_id = ? AND (${seqs})${steps.sql} ORDER BY seq`), [
      scope.seriesId,
      ...spans.flat(),
      ...steps.params,
    ])) as Row[];
    return rows.map(pointOf);
  }

  /**
   * Candidates holding each bucket's lowest and highest point, from the rollups of the blocks
   * inside the contiguous scope (each inside one bucket, as `level`'s blocks divide `width`) and
   * from the few points at its ends that no block covers.
   */
  private async rollupExtremes(m: EntityManager, scope: Scope, width: number, level: number): Promise<SeriesPoint[]> {
    const { blocks, raw } = coverage(scope.low, scope.high, scope.pointCount, level);
    const candidates = raw.length ? await this.pointsIn(m, scope, raw) : [];
    if (blocks.length === 0) return candidates;
    const where = `series_id = ? AND (${blocks.map(() => '(level = ? AND block BETWEEN ? AND ?)').join(' OR ')})`;
    const params = [scope.seriesId, ...blocks.flatMap((range: BlockRange) => [range.level, range.from, range.to])];
    if (this.postgres) {
      const rows = (await m.query(
        this.sql(
          `SELECT ${extremeArray('min_', 'min')} AS lo, ${extremeArray('max_', 'max')} AS hi
           FROM metric_rollups WHERE ${where} GROUP BY min_seq / ?::bigint`,
        ),
        [...params, width],
      )) as ExtremeRow[];
      return candidates.concat(rows.flatMap(extremesOf));
    }
    const rows = (await m.query(`SELECT * FROM metric_rollups WHERE ${where}`, params)) as Row[];
    return candidates.concat(rows.flatMap((row) => [prefixedPointOf(row, 'min_'), prefixedPointOf(row, 'max_')]));
  }

  /** Candidates holding each bucket's lowest and highest point, by a scan of the scope's points. */
  private async pointExtremes(m: EntityManager, scope: Scope, width: number): Promise<SeriesPoint[]> {
    const where = `series_id = ? AND seq BETWEEN ? AND ?${scope.steps.sql}`;
    const params = [scope.seriesId, scope.low, scope.high, ...scope.steps.params];
    if (this.postgres) {
      const rows = (await m.query(
        this.sql(`SELECT ${extremeArray('', 'min')} AS lo, ${extremeArray('', 'max')} AS hi FROM metric_points WHERE ${where} GROUP BY seq / ?::bigint`),
        [...params, width],
      )) as ExtremeRow[];
      return rows.flatMap(extremesOf);
    }
    const bucket = 'seq / CAST(? AS INTEGER)';
    const rows = (await m.query(
      `SELECT ${POINT_COLUMNS} FROM (
         SELECT ${POINT_COLUMNS},
                row_number() OVER (PARTITION BY ${bucket} ORDER BY value IS NULL, value, seq) AS lo,
                row_number() OVER (PARTITION BY ${bucket} ORDER BY value IS NULL DESC, value DESC, seq) AS hi
         FROM metric_points WHERE ${where}
       ) WHERE lo = 1 OR hi = 1`,
      [width, width, ...params],
    )) as Row[];
    return rows.map(pointOf);
  }

  /**
   * Runs reads outside the caller's transactions: on SQLite in a transaction of their own, since
   * every caller shares one connection; on PostgreSQL in one REPEATABLE READ snapshot when
   * `snapshot`, so several statements see the same series.
   */
  private read<T>(work: (manager: EntityManager) => Promise<T>, snapshot = false): Promise<T> {
    if (!this.postgres) return this.dataSource.transaction(work);
    return snapshot ? this.dataSource.transaction('REPEATABLE READ', work) : work(this.dataSource.manager);
  }

  /** `sql` with `?` placeholders numbered for PostgreSQL. */
  private sql(sql: string): string {
    if (!this.postgres) return sql;
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }
}

type ExtremeRow = { lo: number[]; hi: number[] };

/**
 * PostgreSQL: an aggregate picking the lowest (`min`) or highest (`max`) point of a group as
 * [value, seq, step, timestamp]. Arrays compare element by element in PostgreSQL's float order
 * (NaN highest); the highest carries -seq, so that on equal values the first logged wins too.
 */
function extremeArray(prefix: '' | 'min_' | 'max_', aggregate: 'min' | 'max'): string {
  const seq = aggregate === 'min' ? `${prefix}seq::float8` : `(-${prefix}seq)::float8`;
  return `${aggregate}(ARRAY[${prefix}value, ${seq}, ${prefix}step::float8, ${prefix}${prefix ? 'timestamp' : '"timestamp"'}::float8])`;
}

function extremesOf({ lo, hi }: ExtremeRow): SeriesPoint[] {
  return [
    { value: lo[0], seq: lo[1], step: lo[2], timestampMs: lo[3] },
    { value: hi[0], seq: -hi[1], step: hi[2], timestampMs: hi[3] },
  ];
}

/**
 * The upsert of rollup deltas: a block that already has points keeps its first step, its lower
 * minimum and its higher maximum, and widens its timestamp span; on ties the stored (earlier)
 * point stays. SQLite has NULL for NaN.
 */
function rollupMerge(dialect: Dialect): string {
  const lower = dialect.floatBelow('excluded.min_value', 'metric_rollups.min_value');
  const higher = dialect.floatAbove('excluded.max_value', 'metric_rollups.max_value');
  const pick = (condition: string, columns: string[]) =>
    columns.map((column) => `${column} = CASE WHEN ${condition} THEN excluded.${column} ELSE metric_rollups.${column} END`);
  const merge = [
    'count = metric_rollups.count + excluded.count',
    ...pick(lower, ['min_value', 'min_seq', 'min_step', 'min_timestamp']),
    ...pick(higher, ['max_value', 'max_seq', 'max_step', 'max_timestamp']),
    'last_step = excluded.last_step',
    `earliest_timestamp = ${dialect.least('metric_rollups.earliest_timestamp', 'excluded.earliest_timestamp')}`,
    `latest_timestamp = ${dialect.greatest('metric_rollups.latest_timestamp', 'excluded.latest_timestamp')}`,
  ];
  return `ON CONFLICT (series_id, level, block) DO UPDATE SET ${merge.join(', ')}`;
}

function rollupValues(row: RollupDelta): number[] {
  return [
    row.seriesId, row.level, row.block, row.count,
    row.min.value, row.min.seq, row.min.step, row.min.timestampMs,
    row.max.value, row.max.seq, row.max.step, row.max.timestampMs,
    row.firstStep, row.lastStep, row.earliestTimestamp, row.latestTimestamp,
  ];
}

function seriesValues(series: SeriesState): Array<number | boolean> {
  return [series.id, series.pointCount, series.latest.value, series.latest.step, series.latest.timestampMs, series.maxStep, series.monotonic];
}

function seriesAssignments(): string {
  return SERIES_UPDATE_COLUMNS.split(', ')
    .slice(1)
    .map((column) => `${column} = u.${column}`)
    .join(', ');
}

function seriesOf(row: Row): SeriesState {
  return {
    id: Number(row['id']),
    key: String(row['key']),
    pointCount: Number(row['point_count']),
    latest: { seq: -1, value: valueOf(row['latest_value']), step: Number(row['latest_step']), timestampMs: Number(row['latest_timestamp']) },
    maxStep: Number(row['max_step']),
    monotonic: row['monotonic'] === true || Number(row['monotonic']) === 1,
  };
}

function pointOf(row: Row): SeriesPoint {
  return prefixedPointOf(row, '');
}

/** The point a row holds in its columns, or a rollup row in its `min_` or `max_` ones. */
function prefixedPointOf(row: Row, prefix: '' | 'min_' | 'max_'): SeriesPoint {
  return {
    seq: Number(row[`${prefix}seq`]),
    step: Number(row[`${prefix}step`]),
    timestampMs: Number(row[`${prefix}timestamp`]),
    value: valueOf(row[`${prefix}value`]),
  };
}

/** `points` as columns, in their order. */
function columnsFrom(points: readonly SeriesPoint[]): SeriesColumns {
  return { steps: points.map((p) => p.step), timestampsMs: points.map((p) => p.timestampMs), values: points.map((p) => p.value) };
}

function noPoints(): SeriesColumns {
  return { steps: [], timestampsMs: [], values: [] };
}

/** The SQL condition (` AND ...`) of a step range, its parameters, and the same test in code. */
function stepRange({ startStep, endStep }: SampleRange): { sql: string; params: number[]; includes: (step: number) => boolean } {
  const conditions: string[] = [];
  const params: number[] = [];
  if (startStep !== undefined) {
    conditions.push(' AND step >= ?');
    params.push(startStep);
  }
  if (endStep !== undefined) {
    conditions.push(' AND step <= ?');
    params.push(endStep);
  }
  return { sql: conditions.join(''), params, includes: (step) => (startStep === undefined || step >= startStep) && (endStep === undefined || step <= endStep) };
}

/** A stored float: SQLite gives NULL for NaN. */
function valueOf(value: unknown): number {
  return value === null || value === undefined ? Number.NaN : Number(value);
}

function marks(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/**
 * A PostgreSQL array literal of numbers or booleans, built here rather than by the driver, which
 * quotes every element: ingest sends hundreds of thousands of them a second.
 */
function pgArray(values: ReadonlyArray<number | boolean>): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) literal += ',';
    literal += typeof value === 'boolean' ? (value ? 't' : 'f') : Object.is(value, -0) ? '-0' : String(value);
  }
  return `${literal}}`;
}

/** Runs `statement` over `count` rows of `width` values, SQLITE_ROWS rows at a time. */
async function sqliteRows(
  manager: EntityManager,
  count: number,
  width: number,
  row: (index: number) => unknown[],
  statement: (values: string) => string,
): Promise<void> {
  for (let start = 0; start < count; start += SQLITE_ROWS) {
    const end = Math.min(count, start + SQLITE_ROWS);
    const params: unknown[] = [];
    for (let i = start; i < end; i++) params.push(...row(i));
    await manager.query(statement(Array.from({ length: end - start }, () => `(${marks(width)})`).join(', ')), params);
  }
}

function inactiveRun(runId: string): FailedPreconditionError {
  return runNotActive(runId, `run ${runId} is deleted or missing; restore it before logging to it`);
}
