import type { Dialect } from '@trellis/platform';
import type { RunOrderBy } from '../common/search/order-by.parser';
import type { RunComparison, RunFilter } from '../common/search/run-filter.parser';
import { direction, SearchParameters, type BoundSql } from '../common/search/search-sql';

/** What one page of a run search reads, after parsing and paging. */
export interface RunSearchQuery {
  experimentIds: readonly number[];
  /** `active` or `deleted`; undefined for both. */
  lifecycleStage?: 'active' | 'deleted';
  filter: RunFilter;
  orderBy: readonly RunOrderBy[];
  limit: number;
  offset: number;
}

const RUN_COLUMNS: Readonly<Record<string, { column: string; text: boolean; nullable: boolean }>> = {
  run_id: { column: 'r.id', text: false, nullable: false },
  run_name: { column: 'r.name', text: true, nullable: false },
  status: { column: 'r.status', text: true, nullable: false },
  user_id: { column: 'r.user_id', text: true, nullable: false },
  artifact_uri: { column: 'r.artifact_uri', text: true, nullable: false },
  start_time: { column: 'r.start_time', text: false, nullable: false },
  end_time: { column: 'r.end_time', text: false, nullable: true },
};

const DATASET_COLUMNS: Readonly<Record<string, string>> = { name: 'name', digest: 'digest', context: 'context' };

const KEYED_TABLES = { metric: 'metric_series', param: 'run_params', tag: 'run_tags' } as const;

/**
 * The SELECT of run ids for one page of a run search, with every key and value bound. Filters
 * on params, tags and metrics are EXISTS on (run_id, key), which leaves out runs without the key
 * for every operator, `!=` included, as MLflow does; keys ordered by are LEFT JOINed (at most
 * one row each: (run_id, key) is unique) and runs without them sort last in either direction,
 * with NaN metrics after the numbers and before them, as MLflow. `start_time DESC, id ASC`
 * always ends the order.
 */
export function buildRunSearchSql(dialect: Dialect, query: RunSearchQuery): BoundSql {
  const sql = new SearchParameters(dialect);
  // Placeholders are positional on SQLite: build the statement in the order it reads.
  const joins: string[] = [];
  const orderTerms: string[] = [];
  query.orderBy.forEach((order, index) => {
    const dir = direction(order.ascending);
    if (order.entity === 'attribute') {
      const { column, text, nullable } = RUN_COLUMNS[order.key];
      orderTerms.push(`${text ? sql.textOrder(column) : column} ${dir}${nullable ? ' NULLS LAST' : ''}`);
      return;
    }
    const alias = `o${index}`;
    joins.push(`LEFT JOIN ${KEYED_TABLES[order.entity]} ${alias} ON ${alias}.run_id = r.id AND ${alias}.key = ${sql.bind(order.key)}`);
    if (order.entity !== 'metric') {
      // Values are never NULL: NULL is a run without the key.
      orderTerms.push(`${sql.textOrder(`${alias}.value`)} ${dir} NULLS LAST`);
    } else {
      // Numbers, then NaN, then runs without the metric, as MLflow orders them.
      orderTerms.push(dialect.nanLastOrder(`${alias}.latest_value`, order.ascending, `${alias}.run_id IS NULL`));
    }
  });
  if (!query.orderBy.some((order) => order.entity === 'attribute' && order.key === 'start_time')) orderTerms.push('r.start_time DESC');
  orderTerms.push('r.id ASC');

  const conditions: string[] = [
    query.experimentIds.length === 1
      ? `r.experiment_id = ${sql.bind(query.experimentIds[0])}`
      : sql.inList('r.experiment_id', query.experimentIds, false),
  ];
  if (query.lifecycleStage) conditions.push(`r.lifecycle_stage = ${sql.bind(query.lifecycleStage)}`);
  query.filter.forEach((comparison, index) => conditions.push(conditionOf(sql, comparison, `f${index}`)));

  const statement = [
    'SELECT r.id AS id FROM runs r',
    ...joins,
    `WHERE ${conditions.join('\n  AND ')}`,
    `ORDER BY ${orderTerms.join(', ')}`,
    `LIMIT ${sql.bind(query.limit)} OFFSET ${sql.bind(query.offset)}`,
  ].join('\n');
  return { sql: statement, parameters: sql.values };
}

function conditionOf(sql: SearchParameters, { entity, key, op, value }: RunComparison, alias: string): string {
  switch (entity) {
    case 'attribute':
      return sql.compare(RUN_COLUMNS[key].column, op, value);
    case 'dataset':
      return sql.exists(`SELECT 1 FROM run_inputs ${alias} WHERE ${alias}.run_id = r.id AND ${sql.compare(`${alias}.${DATASET_COLUMNS[key]}`, op, value)}`);
    case 'metric': {
      // Each run's own (run_id, key) row is looked up; the value is only compared (Dialect.valueOnly).
      const latest = sql.dialect.valueOnly(`${alias}.latest_value`);
      const head = `SELECT 1 FROM metric_series ${alias} WHERE ${alias}.run_id = r.id AND ${alias}.key = ${sql.bind(key)}`;
      const compared = sql.compare(latest, op, value);
      // NaN matches no comparison, where PostgreSQL holds it above every number and unequal to all.
      const notNan = ['>', '>=', '!='].includes(op) ? ` AND ${sql.dialect.isNumber(latest)}` : '';
      return sql.exists(`${head} AND ${compared}${notNan}`);
    }
    default: {
      const table = KEYED_TABLES[entity];
      return sql.exists(`SELECT 1 FROM ${table} ${alias} WHERE ${alias}.run_id = r.id AND ${alias}.key = ${sql.bind(key)} AND ${sql.compare(`${alias}.value`, op, value)}`);
    }
  }
}
