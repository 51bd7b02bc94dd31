import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MonitoredColumnRow } from '../monitors/monitor.entity';
import { readDatasetFile, tabularFormatOf } from './dataset-file';

const column = (name: string, kind: MonitoredColumnRow['kind']): MonitoredColumnRow => ({ name, kind, output: false, tensor: '', index: 0, detector: 'ks', threshold: 0.05 });
const COLUMNS = [column('age', 'numeric'), column('plan', 'categorical'), column('active', 'categorical'), column('gone', 'numeric')];

describe('readDatasetFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-dataset-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a CSV into numbers and categories, missing values as NaN and null, a column the file lacks as all missing', async () => {
    const path = join(dir, 'v2.csv');
    writeFileSync(path, 'age,plan,active\n31,basic,true\n,pro,false\n45.5,,true\n');
    const read = await readDatasetFile(path, 'csv', COLUMNS);
    expect(read.rows).toBe(3);
    expect(Array.from(read.values.get('age') as Float64Array)).toEqual([31, NaN, 45.5]);
    expect(read.values.get('plan')).toEqual(['basic', 'pro', null]);
    expect(read.values.get('active')).toEqual(['true', 'false', 'true']);
    expect(Array.from(read.values.get('gone') as Float64Array)).toEqual([NaN, NaN, NaN]);
  });

  it('reads JSON Lines, a non-numeric value of a numeric column as missing', async () => {
    const path = join(dir, 'v3.jsonl');
    writeFileSync(path, '{"age": 20, "plan": "basic"}\n{"age": "n/a", "plan": "pro"}\n');
    const read = await readDatasetFile(path, 'jsonl', COLUMNS.slice(0, 2));
    expect(read.rows).toBe(2);
    expect(Array.from(read.values.get('age') as Float64Array)).toEqual([20, NaN]);
    expect(read.values.get('plan')).toEqual(['basic', 'pro']);
  });

  it('reads an empty file as no rows', async () => {
    const path = join(dir, 'empty.csv');
    writeFileSync(path, '');
    expect(await readDatasetFile(path, 'csv', COLUMNS.slice(0, 1))).toEqual({ rows: 0, values: new Map([['age', new Float64Array(0)]]) });
  });

  it('says why a file cannot be read', async () => {
    const path = join(dir, 'broken.parquet');
    writeFileSync(path, 'not parquet');
    await expect(readDatasetFile(path, 'parquet', COLUMNS.slice(0, 1))).rejects.toThrow(/^cannot read the parquet file: /);
  });
});

describe('tabularFormatOf', () => {
  it('names the format by extension, in any case, and nothing for other files', () => {
    expect(['a/b.CSV', 'x.ndjson', 'x.jsonl', 'd/x.parquet', 'README.md', 'csv', 'a.csv/b'].map(tabularFormatOf)).toEqual(['csv', 'jsonl', 'jsonl', 'parquet', undefined, undefined, undefined]);
  });
});
