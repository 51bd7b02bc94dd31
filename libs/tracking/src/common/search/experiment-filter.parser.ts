import { parseOrderClause } from './order-by.parser';
import { parseConjunction } from './run-filter.parser';
import { Scanner } from './scanner';
import { EXPERIMENT_VOCABULARY, type ComparisonOperator } from './search-grammar';

/**
 * One condition of an experiment search: an attribute (`name`, `creation_time`,
 * `last_update_time`) or a tag. `value` is a number for the times and a string otherwise.
 */
export interface ExperimentComparison {
  entity: 'attribute' | 'tag';
  key: string;
  op: ComparisonOperator;
  value: string | number;
}

/** One `order_by` entry of an experiment search: `name`, `experiment_id`, `creation_time` or `last_update_time`. */
export interface ExperimentOrderBy {
  entity: 'attribute';
  key: string;
  ascending: boolean;
}

/**
 * Parses an MLflow `experiments/search` filter such as `name LIKE 'fraud%' and tags.team = 'risk'`
 * (comparisons joined by AND). Throws FilterSyntaxError naming the position.
 */
export function parseExperimentFilter(text: string): ExperimentComparison[] {
  return parseConjunction(new Scanner(text, 'filter', EXPERIMENT_VOCABULARY)) as ExperimentComparison[];
}

/** Parses one experiment `order_by` entry such as `last_update_time DESC` (ascending unless DESC). */
export function parseExperimentOrderBy(text: string): ExperimentOrderBy {
  return parseOrderClause(new Scanner(text, 'order_by', EXPERIMENT_VOCABULARY)) as ExperimentOrderBy;
}
