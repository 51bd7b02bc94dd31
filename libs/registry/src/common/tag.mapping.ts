import type { Tag } from './registry-limits';

/** A request's tag as the services take it; an unset one reads as empty key and value (refused as such). */
export function tagOf(tag: { key: string; value: string } | undefined): Tag {
  return { key: tag?.key ?? '', value: tag?.value ?? '' };
}
