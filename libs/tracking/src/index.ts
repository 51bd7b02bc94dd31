export { FilterSyntaxError } from './search/filter-syntax.error';
export { parseRunFilter, type RunComparison, type RunFilter } from './search/run-filter.parser';
export { parseOrderBy, type RunOrderBy } from './search/order-by.parser';
export {
  DATASET_KEYS,
  ENTITY_OPERATORS,
  RUN_ATTRIBUTES,
  type ComparisonOperator,
  type RunAttributeRule,
  type SearchEntity,
} from './search/search-grammar';
