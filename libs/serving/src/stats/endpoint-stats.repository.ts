import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
import { DataSource, LessThan } from 'typeorm';
import { EndpointStatsEntity } from './endpoint-stats.entity';

/** One row's worth of counts: a revision's requests in one minute and latency bucket. */
export type StatsCount = EndpointStatsEntity;

/** Counts of a revision in one slot of a query (slot = whole bucket widths since its start) and latency bucket. */
export interface SlotCount {
  revisionId: string;
  slot: number;
  latencyBucket: number;
  requests: number;
  errors: number;
}

const COLUMNS = ['endpoint_id', 'minute', 'revision_id', 'latency_bucket', 'requests', 'errors'];
/** Rows per statement: 6 parameters each, well under both databases' limits. */
const ROWS_PER_UPSERT = 200;

/** Reads and adds to endpoint statistics; the only part of the feature that knows the database. */
@Injectable()
export class EndpointStatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Adds counts to the stored rows, in one transaction: a row another replica wrote keeps its counts and gets these added. */
  async add(counts: readonly StatsCount[]): Promise<void> {
    if (counts.length === 0) return;
    await this.dataSource.transaction(async (tx) => {
      const dialect = Dialect.of(tx);
      const table = tableOf(tx, EndpointStatsEntity);
      for (let start = 0; start < counts.length; start += ROWS_PER_UPSERT) {
        const chunk = counts.slice(start, start + ROWS_PER_UPSERT);
        const sql = dialect.upsert(table, COLUMNS, chunk.length, ['endpoint_id', 'minute', 'revision_id', 'latency_bucket'], [
          'requests = endpoint_stats.requests + excluded.requests',
          'errors = endpoint_stats.errors + excluded.errors',
        ]);
        await tx.query(sql, chunk.flatMap((count) => [count.endpointId, count.minute, count.revisionId, count.latencyBucket, count.requests, count.errors]));
      }
    });
  }

  /**
   * The endpoint's counts of minutes in [from, to), summed per revision, slot of `widthMs` from
   * `from`, and latency bucket: at most (slots x revisions x latency buckets) rows, whatever the traffic.
   */
  slots(endpointId: string, from: number, to: number, widthMs: number): Promise<SlotCount[]> {
    return this.dataSource.transaction(async (tx) => {
      const params = Dialect.of(tx).parameters();
      // SQLite binds a JS number as REAL, so its division is not an integer one: the cast truncates (minutes are never before `from`).
      const slot = `CAST((minute - ${params.bind(from)}) / ${params.bind(widthMs)} AS INTEGER)`;
      const rows: Array<Record<string, string | number>> = await tx.query(
        `SELECT revision_id, ${slot} AS slot, latency_bucket, SUM(requests) AS requests, SUM(errors) AS errors
           FROM ${tableOf(tx, EndpointStatsEntity)}
          WHERE endpoint_id = ${params.bind(endpointId)} AND minute >= ${params.bind(from)} AND minute < ${params.bind(to)}
          GROUP BY revision_id, slot, latency_bucket`,
        params.values,
      );
      return rows.map((row) => ({
        revisionId: String(row.revision_id),
        slot: Number(row.slot),
        latencyBucket: Number(row.latency_bucket),
        requests: Number(row.requests),
        errors: Number(row.errors),
      }));
    });
  }

  /** Deletes the counts of minutes before `before` (epoch ms); how many rows went. */
  async prune(before: number): Promise<number> {
    const result = await this.dataSource.transaction((tx) => tx.delete(EndpointStatsEntity, { minute: LessThan(before) }));
    return result.affected ?? 0;
  }
}
