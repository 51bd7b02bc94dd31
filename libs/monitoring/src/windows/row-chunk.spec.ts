import { packChunk, unpackChunk, type RowChunk } from './row-chunk';

describe('row chunks', () => {
  it('read back as they were packed, numbers bit for bit and missing values kept', () => {
    const chunk: RowChunk = {
      firstSeq: 41,
      count: 3,
      answeredAtMs: new Float64Array([1000, 1001, 1003]),
      revision: new Uint16Array([0, 1, 0]),
      revisions: ['rev-a', 'rev-b'],
      columns: [
        { name: 'age', kind: 'numeric', values: new Float64Array([0.1, NaN, -3e300]) },
        { name: 'colour', kind: 'categorical', values: ['red', null, 'grün'] },
        { name: 'score', kind: 'numeric', values: new Float64Array([1, 2, 3]) },
      ],
    };
    const back = unpackChunk(41, 3, packChunk(chunk));
    expect(back.firstSeq).toBe(41);
    expect(Array.from(back.answeredAtMs)).toEqual([1000, 1001, 1003]);
    expect(Array.from(back.revision)).toEqual([0, 1, 0]);
    expect(back.revisions).toEqual(['rev-a', 'rev-b']);
    expect(back.columns.map((column) => [column.name, column.kind, Array.from(column.values as ArrayLike<unknown>)])).toEqual([
      ['age', 'numeric', [0.1, NaN, -3e300]],
      ['colour', 'categorical', ['red', null, 'grün']],
      ['score', 'numeric', [1, 2, 3]],
    ]);
  });

  it('packs a chunk of one row with no column', () => {
    const chunk: RowChunk = { firstSeq: 1, count: 1, answeredAtMs: new Float64Array([5]), revision: new Uint16Array([0]), revisions: ['r'], columns: [] };
    expect(Array.from(unpackChunk(1, 1, packChunk(chunk)).answeredAtMs)).toEqual([5]);
  });
});
