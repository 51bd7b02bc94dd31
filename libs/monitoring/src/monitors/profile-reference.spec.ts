import { create } from '@bufbuild/protobuf';
import { ColumnType, FileProfileSchema, ProfileStatus } from '@trellis/proto/trellis/data/v1/profile_service_pb';
import { profileReference } from './profile-reference';

describe('profileReference', () => {
  it('reads quantiles for numeric columns and category counts for string and boolean ones, in file order', () => {
    const file = create(FileProfileSchema, {
      path: 'train.csv',
      status: ProfileStatus.READY,
      rows: 4n,
      columns: [
        { name: 'age', type: ColumnType.INTEGER, count: 3n, missing: 1n, quantiles: { count: 3n, missing: 1n, quantiles: [{ p: 0, value: 20 }, { p: 0.5, value: 30 }, { p: 1, value: 40 }] } },
        { name: 'plan', type: ColumnType.STRING, count: 4n, categories: { counts: [{ value: 'pro', count: 3n }, { value: 'basic', count: 1n }] } },
        { name: 'member', type: ColumnType.BOOLEAN, count: 4n, categories: { counts: [{ value: 'true', count: 2n }, { value: 'false', count: 2n }] } },
        { name: 'seen', type: ColumnType.TIMESTAMP, count: 4n },
        { name: 'empty', type: ColumnType.FLOAT, count: 0n, missing: 4n },
      ],
    });
    const reference = profileReference(file);
    expect(reference.columns).toEqual(['age', 'plan', 'member', 'seen', 'empty']);
    expect(reference.rows).toBe(4);
    expect(Object.fromEntries(reference.kinds)).toEqual({ age: 'numeric', plan: 'categorical', member: 'categorical', empty: 'numeric' });
    expect(Object.fromEntries(reference.summaries)).toEqual({
      age: { type: 'numeric', summary: 'quantiles', count: 3, missing: 1, quantiles: [{ p: 0, value: 20 }, { p: 0.5, value: 30 }, { p: 1, value: 40 }] },
      plan: { type: 'categorical', summary: 'categories', counts: { pro: 3, basic: 1 }, missing: 0 },
      member: { type: 'categorical', summary: 'categories', counts: { true: 2, false: 2 }, missing: 0 },
    });
  });
});
