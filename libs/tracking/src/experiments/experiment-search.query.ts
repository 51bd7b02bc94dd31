import type { Dialect } from '@trellis/platform';
import type { ExperimentComparison, ExperimentOrderBy } from '../common/search/experiment-filter.parser';
import { direction, SearchParameters, type BoundSql } from '../common/search/search-sql';

/** What one page of an experiment search reads, after parsing and paging. */
export interface ExperimentSearchQuery {
  /** The projects to look in; undefined for every project. */
  projectIds?: readonly string[];
  /** `active` or `deleted`; undefined for both. */
  lifecycleStage?: 'active' | 'deleted';
  filter: readonly ExperimentComparison[];
  /** Empty for MLflow's default, `creation_time DESC`. */
  orderBy: readonly ExperimentOrderBy[];
  limit: number;
  offset: number;
}

const COLUMNS: Readonly<Record<string, { column: string; text: boolean }>> = {
  name: { column: 'e.name', text: true },
  creation_time: { column: 'e.created_at', text: false },
  last_update_time: { column: 'e.updated_at', text: false },
  experiment_id: { column: 'e.id', text: false },
};

const DEFAULT_ORDER: readonly ExperimentOrderBy[] = [{ entity: 'attribute', key: 'creation_time', ascending: false }];

/**
 * The SELECT of experiment ids for one page of an experiment search, with every key and value
 * bound. A tag comparison leaves out experiments without the tag (`!=` too); `experiment_id ASC`
 * ends the order unless the request ordered by it.
 */
export function buildExperimentSearchSql(dialect: Dialect, query: ExperimentSearchQuery): BoundSql {
  const sql = new SearchParameters(dialect);
  const conditions: string[] = [];
  if (query.projectIds) {
    conditions.push(query.projectIds.length === 1 ? `e.project_id = ${sql.bind(query.projectIds[0])}` : sql.inList('e.project_id', query.projectIds, false));
  }
  if (query.lifecycleStage) conditions.push(`e.lifecycle_stage = ${sql.bind(query.lifecycleStage)}`);
  query.filter.forEach(({ entity, key, op, value }, index) => {
    if (entity === 'attribute') {
      conditions.push(sql.compare(COLUMNS[key].column, op, value));
    } else {
      const alias = `t${index}`;
      conditions.push(
        sql.exists(`SELECT 1 FROM experiment_tags ${alias} WHERE ${alias}.experiment_id = e.id AND ${alias}.key = ${sql.bind(key)} AND ${sql.compare(`${alias}.value`, op, value)}`),
      );
    }
  });
  const orderBy = query.orderBy.length > 0 ? query.orderBy : DEFAULT_ORDER;
  const orderTerms = orderBy.map(({ key, ascending }) => {
    const { column, text } = COLUMNS[key];
    return `${text ? sql.textOrder(column) : column} ${direction(ascending)}`;
  });
  if (!orderBy.some((order) => order.key === 'experiment_id')) orderTerms.push('e.id ASC');

  const statement = [
    'SELECT e.id AS id FROM experiments e',
    conditions.length > 0 ? `WHERE ${conditions.join('\n  AND ')}` : '',
    `ORDER BY ${orderTerms.join(', ')}`,
    `LIMIT ${sql.bind(query.limit)} OFFSET ${sql.bind(query.offset)}`,
  ].filter((line) => line !== '').join('\n');
  return { sql: statement, parameters: sql.values };
}
