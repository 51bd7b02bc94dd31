/**
 * Bounds on a search request, so that a large one is refused naming its limit rather than failing
 * in the database: every comparison is one more AND term (SQLite refuses an expression tree deeper
 * than 1000) and every keyed order_by entry one more LEFT JOIN (SQLite joins at most 64 tables).
 * MLflow sets none of these; its own SQL store fails the same way, past them.
 */
export const SEARCH_LIMITS = Object.freeze({
  /** Characters of a filter (64 KiB, as the protos declare): room for an IN list of `inListValues` run ids and more. */
  filterLength: 65_536,
  /** Comparisons a filter joins with AND. */
  comparisons: 100,
  /** Values of one IN or NOT IN list (as many as a registry search takes run ids). */
  inListValues: 1000,
  /** Entries of an order_by list. */
  orderByEntries: 20,
});
