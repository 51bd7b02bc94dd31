/**
 * Count windows over a monitor's row numbers (seq, from 1). Window k covers seq
 * `offset + (k-1)·slide + 1` to `offset + (k-1)·slide + size`; `offset` is the rows of a
 * log-window reference, which come before the first window.
 */
export interface CountWindows {
  size: number;
  slide: number;
  offset: number;
}

/** The row numbers window `k` (from 1) covers. */
export function countWindowRange(windows: CountWindows, k: number): { firstSeq: number; lastSeq: number } {
  const firstSeq = windows.offset + (k - 1) * windows.slide + 1;
  return { firstSeq, lastSeq: firstSeq + windows.size - 1 };
}

/** How many windows are complete once rows up to `lastSeq` are in. */
export function completeCountWindows(windows: CountWindows, lastSeq: number): number {
  const beyond = lastSeq - windows.offset - windows.size;
  return beyond < 0 ? 0 : Math.floor(beyond / windows.slide) + 1;
}

/**
 * Time windows aligned to the epoch: a window covers answer times `[start, start + size)`, and
 * starts are multiples of `slide` (milliseconds).
 */
export interface TimeWindows {
  sizeMs: number;
  slideMs: number;
}

/** The start of the latest window that starts at or before `atMs`: where a monitor's first window begins. */
export function alignedStart(windows: TimeWindows, atMs: number): number {
  return Math.floor(atMs / windows.slideMs) * windows.slideMs;
}

/**
 * The start of the next window to close after the one starting at `startMs` closed (or was found
 * empty): the following aligned start, moved past windows that would hold none of the rows still
 * kept (`earliestRowMs`, the earliest answer time at or after that start; undefined for none)
 * and that already ended by `watermarkMs`, so empty windows are not scored.
 */
export function nextTimeStart(windows: TimeWindows, startMs: number, earliestRowMs: number | undefined, watermarkMs: number): number {
  const next = startMs + windows.slideMs;
  // The first aligned start whose window still contains `at`: above at - size.
  const firstCovering = (at: number) => (Math.floor((at - windows.sizeMs) / windows.slideMs) + 1) * windows.slideMs;
  const bound = earliestRowMs === undefined ? firstCovering(watermarkMs) : Math.min(firstCovering(earliestRowMs), firstCovering(watermarkMs));
  return Math.max(next, bound);
}
