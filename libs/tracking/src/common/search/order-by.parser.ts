import { Scanner } from './scanner';
import type { SearchEntity } from './search-grammar';

/** One `order_by` entry of a run search. Datasets cannot be ordered by. */
export interface RunOrderBy {
  entity: Exclude<SearchEntity, 'dataset'>;
  key: string;
  ascending: boolean;
}

/**
 * Parses one MLflow `order_by` entry such as `metrics.acc DESC` or `attributes.start_time`
 * (ascending unless DESC is given). Throws FilterSyntaxError naming the position.
 */
export function parseOrderBy(text: string): RunOrderBy {
  return parseOrderClause(new Scanner(text, 'order_by')) as RunOrderBy;
}

/** Reads one order_by entry by the scanner's vocabulary (the run and experiment grammars share this). */
export function parseOrderClause(scanner: Scanner): { entity: SearchEntity; key: string; ascending: boolean } {
  scanner.refuseNul();
  scanner.skipSpace();
  const id = scanner.readIdentifier('order_by');
  if (!scanner.vocabulary.orderableEntities.includes(id.entity)) {
    scanner.error(
      `ordering by ${id.entity}s is not supported (position ${id.start}); expected ${scanner.vocabulary.orderableList}`,
      id.start,
      'an orderable entity',
    );
  }
  scanner.skipSpace();
  let ascending = true;
  const word = scanner.peekWord()?.toUpperCase();
  if (word === 'ASC' || word === 'DESC') {
    ascending = word === 'ASC';
    scanner.pos += word.length;
    scanner.skipSpace();
  }
  if (!scanner.atEnd()) scanner.fail(word === 'ASC' || word === 'DESC' ? 'the end of the clause' : 'ASC, DESC or the end of the clause');
  return { entity: id.entity, key: id.key, ascending };
}
