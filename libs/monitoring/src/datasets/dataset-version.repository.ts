import { Injectable } from '@nestjs/common';
import { Dialect } from '@trellis/platform';
import { DataSource, In, type EntityManager } from 'typeorm';
import { MonitorEntity } from '../monitors/monitor.entity';

/** A committed version a monitor of its dataset scores once. */
export interface VersionToScore {
  monitorId: string;
  version: number;
  committedAtMs: number;
  attempts: number;
}

/** Reads and writes the datasets feature's table, `monitor_dataset_versions`; the only part of the feature that knows SQL. */
@Injectable()
export class DatasetVersionRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The active and pending monitors of a dataset (by id, in its project). */
  monitorsOfDataset(tx: EntityManager, projectId: string, datasetId: string): Promise<MonitorEntity[]> {
    return tx.find(MonitorEntity, { where: { projectId, datasetId, state: In(['active', 'pending']) } });
  }

  monitor(tx: EntityManager, id: string): Promise<MonitorEntity | null> {
    return tx.findOneBy(MonitorEntity, { id });
  }

  /** Records versions to score, due now; a version already recorded for a monitor is left as it is. */
  async enqueue(tx: EntityManager, versions: readonly Omit<VersionToScore, 'attempts'>[], nowMs: number): Promise<void> {
    if (versions.length === 0) return;
    const columns = ['monitor_id', 'version', 'committed_at', 'status', 'attempts', 'next_attempt_at', 'last_error'];
    await tx.query(
      Dialect.of(tx).upsert('monitor_dataset_versions', columns, versions.length, ['monitor_id', 'version']),
      versions.flatMap((v) => [v.monitorId, v.version, v.committedAtMs, 'pending', 0, nowMs, '']),
    );
  }

  /** Up to `limit` pending versions due by `nowMs` of active monitors, oldest commit first. */
  async due(nowMs: number, limit: number): Promise<VersionToScore[]> {
    return this.transaction(async (tx) => {
      const p = (index: number) => Dialect.of(tx).placeholder(index);
      const rows: VersionRow[] = await tx.query(
        `SELECT v.monitor_id, v.version, v.committed_at, v.attempts FROM monitor_dataset_versions v JOIN monitors m ON m.id = v.monitor_id
          WHERE v.status = 'pending' AND v.next_attempt_at <= ${p(1)} AND m.state = 'active' ORDER BY v.committed_at, v.version LIMIT ${p(2)}`,
        [nowMs, limit],
      );
      return rows.map(versionOf);
    });
  }

  /** The version, if it is still pending, its row locked until `tx` ends (a second replica waits, then finds it done). */
  async lockPending(tx: EntityManager, monitorId: string, version: number): Promise<VersionToScore | undefined> {
    const dialect = Dialect.of(tx);
    const p = (index: number) => dialect.placeholder(index);
    const rows: VersionRow[] = await tx.query(
      `SELECT monitor_id, version, committed_at, attempts FROM monitor_dataset_versions WHERE monitor_id = ${p(1)} AND version = ${p(2)} AND status = 'pending'${dialect.forUpdate}`,
      [monitorId, version],
    );
    return rows.length ? versionOf(rows[0]) : undefined;
  }

  /** Marks the version scored, or given up on with its error, or due again at `nextAttemptMs` after a failed attempt. */
  async settle(tx: EntityManager, monitorId: string, version: number, outcome: { status: 'done' | 'failed' | 'pending'; attempts: number; error: string; nextAttemptMs: number }): Promise<void> {
    const p = (index: number) => Dialect.of(tx).placeholder(index);
    await tx.query(
      `UPDATE monitor_dataset_versions SET status = ${p(1)}, attempts = ${p(2)}, last_error = ${p(3)}, next_attempt_at = ${p(4)} WHERE monitor_id = ${p(5)} AND version = ${p(6)}`,
      [outcome.status, outcome.attempts, outcome.error, outcome.nextAttemptMs, monitorId, version],
    );
  }

  /** Sets the state message of an ACTIVE monitor (which version could not be scored), the feature's only write to a monitor. */
  async noteOnMonitor(tx: EntityManager, monitorId: string, message: string): Promise<void> {
    await tx.update(MonitorEntity, { id: monitorId, state: 'active' }, { stateMessage: message, updatedAt: Date.now() });
  }

  /** Removes what the feature keeps of a monitor. */
  async deleteMonitor(tx: EntityManager, monitorId: string): Promise<void> {
    await tx.query(`DELETE FROM monitor_dataset_versions WHERE monitor_id = ${Dialect.of(tx).placeholder(1)}`, [monitorId]);
  }

  /** Each version recorded for a monitor and where it stands, in version order; for specs and operators. */
  async versionsOf(monitorId: string): Promise<Array<{ version: number; status: string; attempts: number; error: string }>> {
    return this.transaction(async (tx) => {
      const rows: Array<VersionRow & { status: string; last_error: string }> = await tx.query(
        `SELECT monitor_id, version, committed_at, attempts, status, last_error FROM monitor_dataset_versions WHERE monitor_id = ${Dialect.of(tx).placeholder(1)} ORDER BY version`,
        [monitorId],
      );
      return rows.map((row) => ({ version: Number(row.version), status: row.status, attempts: Number(row.attempts), error: row.last_error }));
    });
  }
}

interface VersionRow {
  monitor_id: string;
  version: string | number;
  committed_at: string | number;
  attempts: string | number;
}

function versionOf(row: VersionRow): VersionToScore {
  return { monitorId: row.monitor_id, version: Number(row.version), committedAtMs: Number(row.committed_at), attempts: Number(row.attempts) };
}
