import type { DriftColumn, DriftColumnType, DriftDetector, DriftScore, DriftSummary, DriftSummaryForm } from '../contracts';

/** Makes a detector for one test; called before every test of the suite. */
export type DriftFactory = () => Promise<DriftDetector> | DriftDetector;

const COLUMN_TYPES: readonly DriftColumnType[] = ['numeric', 'categorical'];
const FORMS_BY_TYPE: Readonly<Record<DriftColumnType, readonly DriftSummaryForm[]>> = { numeric: ['quantiles', 'histogram'], categorical: ['categories'] };
const SAMPLE = 2000;
const CATEGORIES = ['red', 'green', 'blue', 'black'];
/** Category shares of the reference and of a shifted window, by how many categories the suite draws. */
const SHARES: Readonly<Record<2 | 4, { reference: number[]; shifted: number[] }>> = {
  2: { reference: [0.6, 0.4], shifted: [0.4, 0.6] },
  4: { reference: [0.4, 0.3, 0.2, 0.1], shifted: [0.1, 0.2, 0.3, 0.4] },
};

/** Options of {@link describeDriftConformance}. */
export interface DriftConformanceOptions {
  /**
   * Categories in the categorical windows: 4 (default), or 2 for a detector of binary columns
   * (a proportion test), which the suite then draws from red and green only.
   */
  categories?: 2 | 4;
}

/**
 * Windows the suite scores, drawn from a seeded generator, so every run sees the same numbers:
 * numeric ones from normal distributions, categorical ones over two or four colours.
 */
function windowOf(categories: 2 | 4, type: DriftColumnType, seed: number, shifted: boolean): DriftColumn {
  const random = mulberry32(seed);
  if (type === 'numeric') {
    const values = Array.from({ length: SAMPLE }, () => normal(random) + (shifted ? 1.5 : 0));
    return { type, values };
  }
  const weights = SHARES[categories][shifted ? 'shifted' : 'reference'];
  return { type, values: Array.from({ length: SAMPLE }, () => pick(random, weights)) };
}

/** The reference window (seed 1) as a stored profile would summarize it. */
function summaryOf(categories: 2 | 4, form: DriftSummaryForm): DriftSummary {
  const reference = windowOf(categories, form === 'categories' ? 'categorical' : 'numeric', 1, false);
  if (form === 'categories') {
    const counts: Record<string, number> = {};
    for (const value of Array.from(reference.values as ArrayLike<string>)) counts[value] = (counts[value] ?? 0) + 1;
    return { type: 'categorical', summary: 'categories', counts, missing: 0 };
  }
  const sorted = Array.from(reference.values as ArrayLike<number>).sort((a, b) => a - b);
  if (form === 'quantiles') {
    const quantiles = Array.from({ length: 101 }, (_, i) => ({ p: i / 100, value: sorted[Math.round((i / 100) * (sorted.length - 1))] }));
    return { type: 'numeric', summary: 'quantiles', count: sorted.length, missing: 0, quantiles };
  }
  const [min, max] = [sorted[0], sorted[sorted.length - 1]];
  const bins = 20;
  const edges = Array.from({ length: bins + 1 }, (_, i) => min + ((max - min) * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const value of sorted) counts[Math.min(bins - 1, Math.floor(((value - min) / (max - min)) * bins))]++;
  return { type: 'numeric', summary: 'histogram', edges, counts, missing: 0 };
}

/**
 * The drift contract's conformance suite (v1). A drift plugin's spec calls it with a factory of
 * detectors (one configuration each; call it once per configuration); it uses jest's globals. It
 * draws its windows from a seeded generator (2000 values each), so it is deterministic: a window
 * of the reference's distribution must not be flagged under the detector's default threshold, and
 * a clearly shifted one (a normal moved by 1.5 standard deviations, category shares reversed) must.
 *
 * @example
 * describeDriftConformance('drift-stats ks', () => plugin.create(createTestContext(), { method: 'ks' }));
 */
export function describeDriftConformance(name: string, factory: DriftFactory, options: DriftConformanceOptions = {}): void {
  const categories = options.categories ?? 4;
  const window = (type: DriftColumnType, seed: number, shifted: boolean) => windowOf(categories, type, seed, shifted);
  describe(`drift conformance (v1): ${name}`, () => {
    let detector: DriftDetector;

    beforeEach(async () => {
      detector = await factory();
    });

    afterEach(async () => {
      await detector.close?.();
    });

    /** Runs `check` for each column type the detector declares, naming the type in a failure. */
    const eachType = async (check: (type: DriftColumnType) => Promise<void>) => {
      for (const type of detector.columnTypes) await named(`${type} columns`, () => check(type));
    };
    const score = async (type: DriftColumnType, shifted: boolean, threshold?: number) =>
      detector.score(await detector.fit(window(type, 1, false)), window(type, 2, shifted), threshold === undefined ? {} : { threshold });

    describe('declarations', () => {
      it('declares its column types, summary forms, measure and a default threshold that fits the measure', () => {
        expect(detector.columnTypes.length).toBeGreaterThan(0);
        expect(new Set(detector.columnTypes).size).toBe(detector.columnTypes.length);
        for (const type of detector.columnTypes) expect(COLUMN_TYPES).toContain(type);
        expect(['p-value', 'distance']).toContain(detector.measures);
        if (detector.measures === 'p-value') expect(detector.defaultThreshold > 0 && detector.defaultThreshold < 1).toBe(true);
        else expect(detector.defaultThreshold >= 0 && Number.isFinite(detector.defaultThreshold)).toBe(true);
      });

      it('fits from at least one summary form of each column type it declares, and declares no other', () => {
        const forms = detector.columnTypes.flatMap((type) => FORMS_BY_TYPE[type]);
        for (const form of detector.summaries) expect(forms).toContain(form);
        for (const type of detector.columnTypes) expect(FORMS_BY_TYPE[type].filter((form) => detector.summaries.includes(form))).not.toEqual([]);
      });
    });

    describe('verdicts', () => {
      it('does not flag a window drawn from the reference distribution under the default threshold', () =>
        eachType(async (type) => {
          const result = await score(type, false);
          expectScoreShape(result, detector);
          expect(result).toMatchObject({ threshold: detector.defaultThreshold, drifted: false });
        }));

      it('flags a shifted window under the default threshold', () =>
        eachType(async (type) => {
          const result = await score(type, true);
          expectScoreShape(result, detector);
          expect(result).toMatchObject({ threshold: detector.defaultThreshold, drifted: true });
        }));

      it('scores a shifted window as further from the reference than a window of the same distribution', () =>
        eachType(async (type) => {
          const [same, shifted] = [measureOf(await score(type, false)), measureOf(await score(type, true))];
          if (detector.measures === 'p-value') expect(shifted).toBeLessThan(same);
          else expect(shifted).toBeGreaterThan(same);
        }));

      it('applies a given threshold in the direction of its measure (p-value: below; distance: above)', () =>
        eachType(async (type) => {
          const value = measureOf(await score(type, false));
          if (detector.measures === 'p-value') {
            expect(value > 0 && value < 1).toBe(true);
            expect(await score(type, false, value + (1 - value) / 2)).toMatchObject({ threshold: value + (1 - value) / 2, drifted: true });
            expect(await score(type, false, value / 2)).toMatchObject({ threshold: value / 2, drifted: false });
          } else {
            expect(value).toBeGreaterThan(0);
            expect(await score(type, false, value / 2)).toMatchObject({ threshold: value / 2, drifted: true });
            expect(await score(type, false, value * 2)).toMatchObject({ threshold: value * 2, drifted: false });
          }
        }));

      it('refuses a threshold outside the range of its measure with a RangeError naming threshold', () =>
        eachType(async (type) => {
          const bad = detector.measures === 'p-value' ? [0, 1, -0.1, 1.5, Number.NaN] : [-0.1, Number.NaN, Number.POSITIVE_INFINITY];
          for (const threshold of bad) {
            const scoring = score(type, false, threshold);
            await expect(scoring).rejects.toThrow(RangeError);
            await expect(scoring).rejects.toThrow(/threshold/);
          }
        }));

      it('scores the same after its reference was stored as JSON and read back', () =>
        eachType(async (type) => {
          const reference = await detector.fit(window(type, 1, false));
          const stored = JSON.parse(JSON.stringify(reference)) as typeof reference;
          for (const shifted of [false, true]) expect(await detector.score(stored, window(type, 2, shifted))).toEqual(await detector.score(reference, window(type, 2, shifted)));
        }));
    });

    describe('summaries', () => {
      it('fits from each summary form it declares, giving the verdicts of raw values', async () => {
        for (const form of detector.summaries) {
          await named(`a ${form} summary`, async () => {
            const summary = summaryOf(categories, form);
            const reference = await detector.fit(JSON.parse(JSON.stringify(summary)) as DriftSummary);
            expect(reference.type).toBe(summary.type);
            const same = await detector.score(reference, window(summary.type, 2, false));
            const shifted = await detector.score(reference, window(summary.type, 2, true));
            expectScoreShape(same, detector);
            expect([same.drifted, shifted.drifted]).toEqual([false, true]);
          });
        }
      });

      it('refuses a summary form it does not declare with a TypeError naming the form or its type', async () => {
        const others = (['quantiles', 'histogram', 'categories'] as const).filter((form) => !detector.summaries.includes(form));
        for (const form of others) {
          const summary = summaryOf(categories, form);
          const fitting = detector.fit(summary);
          await expect(fitting).rejects.toThrow(TypeError);
          await expect(fitting).rejects.toThrow(new RegExp(`${form}|${summary.type}`));
        }
      });

      it('refuses an invalid summary with a RangeError', async () => {
        const invalid: DriftSummary[] = [];
        if (detector.summaries.includes('histogram')) {
          invalid.push({ type: 'numeric', summary: 'histogram', edges: [0, 2, 1], counts: [1, 1] });
          invalid.push({ type: 'numeric', summary: 'histogram', edges: [0, 1, 2], counts: [0, 0] });
          invalid.push({ type: 'numeric', summary: 'histogram', edges: [0, 1], counts: [1, 1] });
        }
        if (detector.summaries.includes('quantiles')) {
          invalid.push({ type: 'numeric', summary: 'quantiles', count: 10, quantiles: [{ p: 0, value: 1 }, { p: 1, value: 0 }] });
          invalid.push({ type: 'numeric', summary: 'quantiles', count: 10, quantiles: [{ p: 0.5, value: 1 }] });
        }
        if (detector.summaries.includes('categories')) invalid.push({ type: 'categorical', summary: 'categories', counts: { red: 0 } });
        for (const summary of invalid) await named(JSON.stringify(summary), () => expect(detector.fit(summary)).rejects.toThrow(RangeError));
      });
    });

    describe('refusals', () => {
      it('refuses a column type it does not declare with a TypeError naming the type', async () => {
        for (const type of COLUMN_TYPES.filter((t) => !detector.columnTypes.includes(t))) {
          const fitting = detector.fit(window(type, 1, false));
          await expect(fitting).rejects.toThrow(TypeError);
          await expect(fitting).rejects.toThrow(new RegExp(type));
        }
      });

      it('refuses to score a window of another type than its reference with a TypeError', () =>
        eachType(async (type) => {
          const other = COLUMN_TYPES.find((t) => t !== type) as DriftColumnType;
          await expect(detector.score(await detector.fit(window(type, 1, false)), window(other, 2, false))).rejects.toThrow(TypeError);
        }));

      it('refuses a window with no values but missing ones with a RangeError', () =>
        eachType(async (type) => {
          const reference = await detector.fit(window(type, 1, false));
          const empty = { type, values: [null, null, null] } as DriftColumn;
          await expect(detector.fit(empty)).rejects.toThrow(RangeError);
          await expect(detector.score(reference, empty)).rejects.toThrow(RangeError);
          await expect(detector.score(reference, { type, values: [] } as DriftColumn)).rejects.toThrow(RangeError);
        }));

      it('refuses a numeric value that is not finite with a RangeError', async () => {
        if (!detector.columnTypes.includes('numeric')) return;
        const reference = await detector.fit(window('numeric', 1, false));
        for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(detector.score(reference, { type: 'numeric', values: [0.1, bad, 0.3] })).rejects.toThrow(RangeError);
        }
      });

      it('leaves missing values out of the statistic', () =>
        eachType(async (type) => {
          const reference = await detector.fit(window(type, 1, false));
          const current = window(type, 2, true);
          const withGaps = { type, values: Array.from(current.values as ArrayLike<number | string | null>).flatMap((v, i) => (i % 10 === 0 ? [null, v] : [v])) } as DriftColumn;
          expect(await detector.score(reference, withGaps)).toEqual(await detector.score(reference, current));
        }));
    });
  });
}

/** The score has its measure's field (and not the other's), with a number in its range. */
function expectScoreShape(score: DriftScore, detector: DriftDetector): void {
  expect(score.measure).toBe(detector.measures);
  expect(Number.isFinite(score.statistic)).toBe(true);
  if (score.measure === 'p-value') {
    expect(score.pValue >= 0 && score.pValue <= 1).toBe(true);
    expect(score).not.toHaveProperty('distance');
  } else {
    expect(score.distance >= 0 && Number.isFinite(score.distance)).toBe(true);
    expect(score).not.toHaveProperty('pValue');
  }
}

function measureOf(score: DriftScore): number {
  return score.measure === 'p-value' ? score.pValue : score.distance;
}

/** Runs `check`, putting `what` in front of the message of an assertion that fails. */
async function named(what: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    if (err instanceof Error) err.message = `${what}: ${err.message}`;
    throw err;
  }
}

/** A small seeded generator of numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function pick(random: () => number, weights: readonly number[]): string {
  let r = random();
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r < 0) return CATEGORIES[i];
  }
  return CATEGORIES[CATEGORIES.length - 1];
}
