/** Below this many values a stretch is sorted rather than partitioned further. */
const SORT_BELOW = 16;

/**
 * Reorders finite `values` in place so that each position of `ranks` holds the value sorting would
 * put there (a quickselect for several ranks at once, as numpy's `partition` does for
 * `np.quantile`): about linear on average; a stretch whose partitions stall is sorted instead.
 */
export function selectRanks(values: Float64Array, ranks: readonly number[]): void {
  const wanted = [...new Set(ranks)].filter((rank) => rank >= 0 && rank < values.length).sort((a, b) => a - b);
  selectBetween(values, 0, values.length - 1, wanted, 0, wanted.length, 2 * Math.ceil(Math.log2(values.length + 1)));
}

/** Places `ranks[from..to)`, all within `[left, right]`. */
function selectBetween(a: Float64Array, left: number, right: number, ranks: readonly number[], from: number, to: number, depth: number): void {
  while (from < to && left < right) {
    if (depth-- <= 0 || right - left < SORT_BELOW) {
      a.subarray(left, right + 1).sort();
      return;
    }
    const pivot = medianOfThree(a[left], a[(left + right) >>> 1], a[right]);
    let [i, j] = [left, right];
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const swap = a[i];
        a[i] = a[j];
        a[j] = swap;
        i++;
        j--;
      }
    }
    // Now [left, j] <= pivot <= [i, right], and what lies between equals the pivot, in place.
    let split = from;
    while (split < to && ranks[split] <= j) split++;
    let after = split;
    while (after < to && ranks[after] < i) after++;
    selectBetween(a, left, j, ranks, from, split, depth);
    [left, from] = [i, after];
  }
}

function medianOfThree(a: number, b: number, c: number): number {
  if (a < b) return b < c ? b : a < c ? c : a;
  return a < c ? a : b < c ? c : b;
}
