/**
 * A search filter or order_by clause that does not follow MLflow's grammar. `position` is the
 * 0-based offset (in UTF-16 code units) in the text the caller passed; `expected` names what
 * would have been valid there.
 */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';

  constructor(
    message: string,
    readonly position: number,
    readonly expected: string,
  ) {
    super(message);
  }
}
