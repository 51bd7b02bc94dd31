import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { MemoryDriftDetector } from '@trellis/plugin-sdk/testing';
import type { ColumnProfile, TableProfile } from './profile.types';
import { PROFILE_HISTOGRAM_BINS, PROFILE_LOCATOR_BINS } from './numeric-summary';
import { PROFILE_TOP_CATEGORIES, ProfileError, profileTable } from './table-profiler';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'profile-spec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

function column(profile: TableProfile, name: string): ColumnProfile {
  const found = profile.columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name} in ${profile.columns.map((c) => c.name).join(', ')}`);
  return found;
}

/** numpy's default (linear) quantile of sorted values. */
function linearQuantile(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * (sorted[Math.ceil(h)] - sorted[lo]);
}

describe('profileTable', () => {
  it('gives a CSV numeric column its exact count, missing values, min, max, mean, sample std, percentiles and histogram', async () => {
    const values = [7, 1, 10, 4, 2, 9, 3, 6, 8, 5];
    const csv = ['x,y', ...values.map((v, i) => `${v},${i === 3 ? '' : v / 4}`), ',0.5'].join('\n');
    const profile = await profileTable(await file('numbers.csv', `${csv}\n`), 'csv');

    expect(profile).toMatchObject({ format: 'csv', rows: 11, invalidRows: 0 });
    const x = column(profile, 'x');
    expect(x).toMatchObject({ type: 'integer', count: 10, missing: 1, min: 1, max: 10, mean: 5.5 });
    expect(x.stddev).toBeCloseTo(3.0276503540974917, 12);
    const sorted = [...values].sort((a, b) => a - b);
    for (const { p, value } of x.quantiles?.quantiles ?? []) expect(value).toBeCloseTo(linearQuantile(sorted, p), 12);
    expect(x.quantiles).toMatchObject({ type: 'numeric', summary: 'quantiles', count: 10, missing: 1 });
    expect(x.quantiles?.quantiles).toHaveLength(101);
    expect(x.histogram?.edges).toHaveLength(PROFILE_HISTOGRAM_BINS + 1);
    expect(x.histogram?.edges[0]).toBe(1);
    expect(x.histogram?.edges[PROFILE_HISTOGRAM_BINS]).toBe(10);
    expect(x.histogram?.counts.reduce((a, b) => a + b, 0)).toBe(10);
    expect(x.histogram?.counts[PROFILE_HISTOGRAM_BINS - 1]).toBe(1); // 10, the upper edge, is in the last bin

    const y = column(profile, 'y');
    expect(y).toMatchObject({ type: 'float', count: 10, missing: 1, min: 0.25, max: 2.5 });
  });

  it('gives percentiles within (max - min) / 2000 of the exact ones when bins hold many values, exact at min and max, and the same on every run', async () => {
    // 20,000 distinct values crowded into few bins by one outlier; the exact percentiles lie between them.
    const values = Array.from({ length: 20000 }, (_, i) => ((i * 7919) % 20000) / 3);
    values.push(1e6);
    const path = await file('crowded.csv', `v\n${values.join('\n')}\n`);
    const first = column(await profileTable(path, 'csv'), 'v');
    const again = column(await profileTable(path, 'csv'), 'v');

    const sorted = [...values].sort((a, b) => a - b);
    const bound = (1e6 - 0) / PROFILE_LOCATOR_BINS;
    const quantiles = first.quantiles?.quantiles ?? [];
    expect(quantiles).toHaveLength(101);
    let inexact = 0;
    for (const { p, value } of quantiles) {
      const exact = linearQuantile(sorted, p);
      expect(Math.abs(value - exact)).toBeLessThanOrEqual(bound);
      if (value !== exact) inexact++;
    }
    expect(inexact).toBeGreaterThan(0); // the bound is what is asserted, not exactness
    expect(quantiles[0].value).toBe(0);
    expect(quantiles[100].value).toBe(1e6);
    expect(first.histogram?.counts).toEqual([20000, ...new Array<number>(PROFILE_HISTOGRAM_BINS - 2).fill(0), 1]);
    expect(again).toEqual(first);
  });

  it('gives an integer column whose range is under the locator bins its exact percentiles, however many rows', async () => {
    const values = Array.from({ length: 30000 }, (_, i) => Math.floor((((i * 7919) % 30000) / 30000) ** 3 * (PROFILE_LOCATOR_BINS - 1)));
    const profile = await profileTable(await file('skewed-integers.csv', `k\n${values.join('\n')}\n`), 'csv');
    const sorted = [...values].sort((a, b) => a - b);
    const k = column(profile, 'k');
    expect(k.type).toBe('integer');
    for (const { p, value } of k.quantiles?.quantiles ?? []) expect(value).toBeCloseTo(linearQuantile(sorted, p), 9);
  });

  it('counts the most frequent categories exactly, ties by value, the rest as other', async () => {
    const rows = ['color'];
    for (let i = 0; i < PROFILE_TOP_CATEGORIES + 10; i++) rows.push(`c${String(i).padStart(2, '0')}`);
    rows.push('red', 'red', 'red', 'blue', 'blue', '');
    const profile = await profileTable(await file('colors.csv', `${rows.join('\n')}\n`), 'csv');

    const color = column(profile, 'color');
    expect(color).toMatchObject({ type: 'string', count: PROFILE_TOP_CATEGORIES + 15, missing: 1, min: 'blue', max: 'red' });
    const counts = color.categories?.counts ?? {};
    expect(Object.keys(counts)).toHaveLength(PROFILE_TOP_CATEGORIES);
    expect(Object.entries(counts).slice(0, 4)).toEqual([
      ['red', 3],
      ['blue', 2],
      ['c00', 1],
      ['c01', 1],
    ]);
    expect(color.otherCount).toBe(12); // c48 .. c59
    expect(color.categories).toMatchObject({ type: 'categorical', summary: 'categories', missing: 1 });
  });

  it('reads a column of numbers and words as strings', async () => {
    const profile = await profileTable(await file('mixed.csv', 'v\n1\n2\nthree\n4\n'), 'csv');
    expect(column(profile, 'v')).toMatchObject({ type: 'string', count: 4, missing: 0, categories: { counts: { '1': 1, '2': 1, '4': 1, three: 1 } } });
  });

  it('leaves out a malformed CSV row and counts it as invalid, naming its line', async () => {
    const profile = await profileTable(await file('malformed.csv', 'a,b\n1,2\n3,4,5\n6,7\n'), 'csv');
    expect(profile).toMatchObject({ rows: 2, invalidRows: 1 });
    expect(profile.firstInvalid).toMatch(/^line 3: Expected Number of Columns: 2 Found: 3/);
    expect(column(profile, 'a')).toMatchObject({ count: 2, min: 1, max: 6 });
  });

  it('gives an empty file no rows and no columns, and a header-only CSV its columns with no values', async () => {
    expect(await profileTable(await file('empty.csv', ''), 'csv')).toEqual({ format: 'csv', rows: 0, invalidRows: 0, columns: [] });
    const header = await profileTable(await file('header.csv', 'a,b\n'), 'csv');
    expect(header).toMatchObject({ rows: 0, invalidRows: 0 });
    expect(header.columns).toEqual([
      { name: 'a', type: 'string', count: 0, missing: 0 },
      { name: 'b', type: 'string', count: 0, missing: 0 },
    ]);
  });

  it('profiles JSON Lines: booleans as categories, timestamps by their range, nulls and absent fields as missing', async () => {
    const lines = [
      { id: 1, ok: true, at: '2024-01-02T03:04:05Z', score: 0.5 },
      { id: 2, ok: false, at: '2024-03-01T00:00:00Z', score: null },
      { id: 3, ok: true, at: '2023-12-31T23:59:59Z' },
    ];
    const profile = await profileTable(await file('rows.jsonl', lines.map((l) => JSON.stringify(l)).join('\n')), 'jsonl');
    expect(profile).toMatchObject({ format: 'jsonl', rows: 3, invalidRows: 0 });
    expect(column(profile, 'id')).toMatchObject({ type: 'integer', count: 3, mean: 2, stddev: 1 });
    expect(column(profile, 'ok')).toMatchObject({ type: 'boolean', count: 3, categories: { counts: { true: 2, false: 1 } }, otherCount: 0 });
    const at = column(profile, 'at');
    expect(at.type).toBe('timestamp');
    expect(String(at.min)).toMatch(/^2023-12-31 23:59:59/);
    expect(String(at.max)).toMatch(/^2024-03-01 00:00:00/);
    expect(column(profile, 'score')).toMatchObject({ type: 'float', count: 1, missing: 2, min: 0.5, max: 0.5 });
  });

  it('refuses malformed JSON Lines with a ProfileError naming the line', async () => {
    const path = await file('bad.jsonl', '{"a": 1}\n{"a": \n');
    await expect(profileTable(path, 'jsonl')).rejects.toThrow(ProfileError);
    await expect(profileTable(path, 'jsonl')).rejects.toThrow(/cannot read the jsonl file: .*Malformed JSON.*line/);
  });

  it('profiles Parquet with its declared types', async () => {
    const path = join(dir, 'table.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT i::BIGINT AS n, i / 2.0 AS half, CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END AS parity, NULL::VARCHAR AS nothing FROM range(1, 101) t(i)) TO '${path}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();

    const profile = await profileTable(path, 'parquet');
    expect(profile).toMatchObject({ format: 'parquet', rows: 100 });
    expect(column(profile, 'n')).toMatchObject({ type: 'integer', count: 100, min: 1, max: 100, mean: 50.5 });
    expect(column(profile, 'half')).toMatchObject({ type: 'float', min: 0.5, max: 50 });
    expect(column(profile, 'parity').categories?.counts).toEqual({ even: 50, odd: 50 });
    expect(column(profile, 'nothing')).toEqual({ name: 'nothing', type: 'string', count: 0, missing: 100 });
    expect(column(profile, 'n').quantiles?.quantiles[50]).toEqual({ p: 0.5, value: 50.5 });
  });

  it('gives a constant column a one-bin histogram around its value', async () => {
    const profile = await profileTable(await file('constant.csv', 'k\n3\n3\n3\n'), 'csv');
    expect(column(profile, 'k').histogram).toEqual({ type: 'numeric', summary: 'histogram', edges: [2.5, 3.5], counts: [3], missing: 0 });
  });

  it('counts NaN and infinities of a float column as missing', async () => {
    const profile = await profileTable(await file('nan.csv', 'f\n1.5\nnan\ninf\n2.5\n'), 'csv');
    expect(column(profile, 'f')).toMatchObject({ type: 'float', count: 2, missing: 2, min: 1.5, max: 2.5, mean: 2 });
  });

  it('gives summaries that a drift detector fits as they are', async () => {
    const rows = ['v,c'];
    for (let i = 0; i < 500; i++) rows.push(`${(i * 37) % 101},${i % 3 === 0 ? 'a' : 'b'}`);
    const profile = await profileTable(await file('drift.csv', `${rows.join('\n')}\n`), 'csv');
    const v = column(profile, 'v');
    const c = column(profile, 'c');
    const ks = new MemoryDriftDetector('ks');
    const psi = new MemoryDriftDetector('psi');
    const same = { type: 'numeric' as const, values: Array.from({ length: 500 }, (_, i) => (i * 37) % 101) };
    const shifted = { type: 'numeric' as const, values: same.values.map((x) => x + 60) };

    const fromQuantiles = await ks.fit(v.quantiles!);
    expect((await ks.score(fromQuantiles, same)).drifted).toBe(false);
    expect((await ks.score(fromQuantiles, shifted)).drifted).toBe(true);
    const fromHistogram = await psi.fit(v.histogram!);
    expect((await psi.score(fromHistogram, shifted)).drifted).toBe(true);
    const fromCategories = await psi.fit(c.categories!);
    const categories = (values: string[]) => ({ type: 'categorical' as const, values });
    expect((await psi.score(fromCategories, categories(Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 'a' : 'b'))))).drifted).toBe(false);
    expect((await psi.score(fromCategories, categories(Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 'b' : 'a'))))).drifted).toBe(true);
  });
});
