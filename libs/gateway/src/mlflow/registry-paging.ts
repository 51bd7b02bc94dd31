import { decodePageToken, encodePageToken } from '@trellis/platform';
import { invalidParameter } from './mlflow-errors';
import type { RegistryFilter } from './registry-filter';

/** One page of a registry search, as SearchModels and SearchVersions answer. */
export interface RegistryPage<T> {
  items: T[];
  nextPageToken: string;
}

/** Asks the registry for one page. */
export type FetchPage<T> = (pageToken: string, pageSize: number) => Promise<RegistryPage<T>>;

/** What the registry cannot check itself: `test` runs on each item; `listing` identifies the search, so a token only continues it. */
export interface LocalCheck<T> {
  test: (item: T) => boolean;
  listing: string;
}

/** The check of a filter's name conditions (on the model name `nameOf` reads) the registry cannot evaluate; none when it evaluates them all. */
export function nameCheckOf<T>(filter: RegistryFilter, listing: string, nameOf: (item: T) => string): LocalCheck<T> | undefined {
  const { nameChecks } = filter;
  return nameChecks.length > 0 ? { test: (item) => nameChecks.every((check) => check.test(nameOf(item))), listing } : undefined;
}

/** How many items a filtered page asks the registry for at a time (its largest page). */
const SCAN_PAGE_SIZE = 1000;

/**
 * A page of at most `max` items. Without `check`, the registry's own page of `max` and its token.
 * With one, the registry's pages are read in order, keeping the items that pass, until `max` are
 * kept or the registry has no more; the token says which registry page the next page continues
 * in and how many of its kept items came before.
 */
export async function registryPage<T>(fetch: FetchPage<T>, max: number, pageToken: string, check?: LocalCheck<T>): Promise<RegistryPage<T>> {
  if (!check) return fetch(pageToken, max);
  let [upstream, skip] = positionOf(pageToken, check.listing);
  const items: T[] = [];
  for (;;) {
    const page = await fetch(upstream, SCAN_PAGE_SIZE);
    const kept = page.items.filter(check.test).slice(skip);
    const room = max - items.length;
    items.push(...kept.slice(0, room));
    if (kept.length > room) return { items, nextPageToken: encodePageToken(JSON.stringify([upstream, skip + room]), { listing: check.listing }) };
    if (!page.nextPageToken) return { items, nextPageToken: '' };
    [upstream, skip] = [page.nextPageToken, 0];
    if (items.length === max) return { items, nextPageToken: encodePageToken(JSON.stringify([upstream, 0]), { listing: check.listing }) };
  }
}

function positionOf(pageToken: string, listing: string): [string, number] {
  if (!pageToken) return ['', 0];
  try {
    const [upstream, skip] = JSON.parse(decodePageToken(pageToken, { listing }) ?? '') as unknown[];
    if (typeof upstream === 'string' && Number.isSafeInteger(skip) && (skip as number) >= 0) return [upstream, skip as number];
  } catch {
    // Answered below, as for any token this search did not make.
  }
  throw invalidParameter("Invalid value for parameter 'page_token' supplied: it is not a token a previous page of this search returned.");
}

/** `map` over `items`, at most `limit` calls at a time, results in order. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await map(items[index]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
