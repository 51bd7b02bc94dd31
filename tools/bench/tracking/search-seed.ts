// Seeds a tracking database for the run search benchmark: one experiment of RUNS runs, each with
// PARAMS params (p0.., values v0..v9), METRICS metrics (m0.., latest values uniform in [0, 1)) and
// three tags, inserted with unnest in batches. Deterministic (a fixed-seed generator).
import type { Client } from 'pg';
import { seededUniforms } from '@trellis/testing';

export interface SeedSize {
  runs: number;
  params: number;
  metrics: number;
}

const STATUSES = ['FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FINISHED', 'FAILED', 'RUNNING'];
const TEAMS = ['vision', 'speech', 'ranking', 'forecasting'];
const BATCH = 50_000;

async function insertColumns(client: Client, table: string, columns: Array<[string, string, unknown[]]>): Promise<void> {
  const length = columns[0][2].length;
  for (let start = 0; start < length; start += BATCH) {
    const names = columns.map(([name]) => `"${name}"`).join(', ');
    const arrays = columns.map(([, type], index) => `$${index + 1}::${type}[]`).join(', ');
    await client.query(
      `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays})`,
      columns.map(([, , values]) => values.slice(start, start + BATCH)),
    );
  }
}

/** Fills the database behind `client` and returns the experiment's id. */
export async function seedRuns(client: Client, size: SeedSize): Promise<number> {
  const random = seededUniforms(42);
  const now = Date.UTC(2026, 10, 1);
  const [{ id: experimentId }] = (
    await client.query(
      `INSERT INTO experiments (project_id, name, artifact_location, lifecycle_stage, created_at, updated_at)
       VALUES ('bench', 'search-bench', 'file:///tmp/bench', 'active', $1, $1) RETURNING id`,
      [now],
    )
  ).rows;

  const ids: string[] = [];
  const starts: number[] = [];
  const ends: Array<number | null> = [];
  const statuses: string[] = [];
  for (let i = 0; i < size.runs; i++) {
    ids.push(Array.from({ length: 4 }, () => Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0')).join(''));
    const start = now - (size.runs - i) * 60_000 + Math.floor(random() * 30_000);
    const status = STATUSES[Math.floor(random() * STATUSES.length)];
    starts.push(start);
    statuses.push(status);
    ends.push(status === 'RUNNING' ? null : start + Math.floor(random() * 3_600_000));
  }
  await insertColumns(client, 'runs', [
    ['id', 'varchar', ids],
    ['experiment_id', 'int', ids.map(() => experimentId)],
    ['project_id', 'varchar', ids.map(() => 'bench')],
    ['name', 'varchar', ids.map((_, i) => `run-${i}`)],
    ['user_id', 'varchar', ids.map((_, i) => `user-${i % 25}`)],
    ['status', 'varchar', statuses],
    ['start_time', 'bigint', starts],
    ['end_time', 'bigint', ends],
    ['artifact_uri', 'text', ids.map((id) => `file:///tmp/bench/${id}/artifacts`)],
    ['artifact_store', 'varchar', ids.map(() => 'default')],
    ['lifecycle_stage', 'varchar', ids.map(() => 'active')],
  ]);

  const keyed = (count: number, prefix: string, value: () => unknown) => {
    const runIds: string[] = [];
    const keys: string[] = [];
    const values: unknown[] = [];
    for (const id of ids) {
      for (let k = 0; k < count; k++) {
        runIds.push(id);
        keys.push(`${prefix}${k}`);
        values.push(value());
      }
    }
    return { runIds, keys, values };
  };
  const params = keyed(size.params, 'p', () => `v${Math.floor(random() * 10)}`);
  await insertColumns(client, 'run_params', [['run_id', 'varchar', params.runIds], ['key', 'varchar', params.keys], ['value', 'varchar', params.values]]);

  const tagRuns = ids.flatMap((id) => [id, id, id]);
  const tagKeys = ids.flatMap(() => ['mlflow.user', 'mlflow.source.type', 'team']);
  const tagValues = ids.flatMap((_, i) => [`user-${i % 25}`, 'LOCAL', TEAMS[Math.floor(random() * TEAMS.length)]]);
  await insertColumns(client, 'run_tags', [['run_id', 'varchar', tagRuns], ['key', 'varchar', tagKeys], ['value', 'varchar', tagValues]]);

  const metrics = keyed(size.metrics, 'm', () => random());
  await insertColumns(client, 'metric_series', [
    ['run_id', 'varchar', metrics.runIds],
    ['key', 'varchar', metrics.keys],
    ['latest_value', 'float8', metrics.values],
    ['latest_step', 'bigint', metrics.values.map(() => 100)],
    ['latest_timestamp', 'bigint', metrics.values.map(() => now)],
    ['point_count', 'bigint', metrics.values.map(() => 100)],
    ['max_step', 'bigint', metrics.values.map(() => 100)],
    ['monotonic', 'bool', metrics.values.map(() => true)],
  ]);
  await client.query('VACUUM ANALYZE');
  return experimentId as number;
}
