import { Injectable } from '@nestjs/common';
import { Dialect, tableOf } from '@trellis/platform';
import { DataSource, LessThan } from 'typeorm';
import { PredictionEntity, PredictionLoggingEntity } from './prediction.entity';

/** The columns `insert` fills, in the order it binds them. */
const INSERTED_COLUMNS = 'request_id, project_id, endpoint_id, endpoint_name, revision_id, answered_at, latency_us';
/** Rows per INSERT statement (a batch may take several, in one transaction). */
const ROWS_PER_INSERT = 64;

/** Reads and writes logged predictions and logging shares; the only part of the feature that knows the database. */
@Injectable()
export class PredictionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores a batch of logged predictions in one transaction, in statements of up to ROWS_PER_INSERT
   * rows written out: TypeORM's insert builder spent more on building a statement (per parameter,
   * for every parameter) than SQLite on running it; and the driver prepares and keeps a statement
   * per row count, which stays small and few this way (one per batch size cost ~50% more CPU a row).
   */
  async insert(rows: readonly Omit<PredictionEntity, 'seq'>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.dataSource.transaction(async (tx) => {
      for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
        const params = Dialect.of(tx).parameters();
        const values = rows
          .slice(start, start + ROWS_PER_INSERT)
          .map((row) => `(${[row.requestId, row.projectId, row.endpointId, row.endpointName, row.revisionId, row.answeredAt, row.latencyUs].map((value) => params.bind(value)).join(', ')})`);
        await tx.query(`INSERT INTO ${tableOf(tx, PredictionEntity)} (${INSERTED_COLUMNS}) VALUES ${values.join(', ')}`, params.values);
      }
    });
  }

  /** The kept predictions of that request id, latest first (a caller may reuse an id). */
  byRequestId(requestId: string): Promise<PredictionEntity[]> {
    return this.dataSource.transaction((tx) => tx.find(PredictionEntity, { where: { requestId }, order: { answeredAt: 'DESC', seq: 'DESC' }, take: 100 }));
  }

  /** Deletes predictions answered before `before` (epoch ms); how many went. */
  async prune(before: number): Promise<number> {
    const result = await this.dataSource.transaction((tx) => tx.delete(PredictionEntity, { answeredAt: LessThan(before) }));
    return result.affected ?? 0;
  }

  /** Every endpoint's own share. */
  shares(): Promise<PredictionLoggingEntity[]> {
    return this.dataSource.transaction((tx) => tx.find(PredictionLoggingEntity));
  }

  share(endpointId: string): Promise<PredictionLoggingEntity | null> {
    return this.dataSource.transaction((tx) => tx.findOneBy(PredictionLoggingEntity, { endpointId }));
  }

  async setShare(row: PredictionLoggingEntity): Promise<void> {
    await this.dataSource.transaction((tx) => tx.upsert(PredictionLoggingEntity, row, ['endpointId']));
  }
}
