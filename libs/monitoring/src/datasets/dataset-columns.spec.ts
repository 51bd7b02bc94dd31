import { FailedPreconditionError } from '@trellis/platform';
import type { ColumnKindName } from '../monitors/monitor.entity';
import { resolveProfileColumns } from './dataset-columns';

const reference = {
  columns: ['age', 'plan', 'signed_up', 'churned'],
  kinds: new Map<string, ColumnKindName>([
    ['age', 'numeric'],
    ['plan', 'categorical'],
    ['churned', 'numeric'],
  ]),
};

describe('resolveProfileColumns', () => {
  it('scores every numeric and categorical column of the file, in file order, with the default policy, leaving timestamps out', () => {
    expect(resolveProfileColumns({ requestedColumns: [], detectors: [] }, reference)).toEqual([
      { name: 'age', kind: 'numeric', output: false, tensor: '', index: 0, detector: '', threshold: 0 },
      { name: 'plan', kind: 'categorical', output: false, tensor: '', index: 0, detector: '', threshold: 0 },
      { name: 'churned', kind: 'numeric', output: false, tensor: '', index: 0, detector: '', threshold: 0 },
    ]);
  });

  it('keeps the requested columns only and applies the detector overrides', () => {
    const columns = resolveProfileColumns({ requestedColumns: ['plan', 'age'], detectors: [{ column: 'age', detector: 'psi', threshold: 0.2 }] }, reference);
    expect(columns.map(({ name, detector, threshold }) => [name, detector, threshold])).toEqual([
      ['age', 'psi', 0.2],
      ['plan', '', 0],
    ]);
  });

  it('refuses a requested column the file does not have as numbers or categories, naming it and those it has', () => {
    const refuse = () => resolveProfileColumns({ requestedColumns: ['signed_up'], detectors: [] }, reference);
    expect(refuse).toThrow(FailedPreconditionError);
    expect(refuse).toThrow('columns names "signed_up", which the reference\'s file does not have as numbers or categories; it has "age", "plan", "churned"');
  });

  it('refuses an override of a column the monitor does not score', () => {
    expect(() => resolveProfileColumns({ requestedColumns: ['age'], detectors: [{ column: 'plan', detector: 'psi', threshold: 0 }] }, reference)).toThrow(
      'detectors names column "plan", which the monitor does not score; it scores "age"',
    );
  });

  it('refuses a file with no column it can compare', () => {
    expect(() => resolveProfileColumns({ requestedColumns: [], detectors: [] }, { columns: ['at'], kinds: new Map() })).toThrow('has no numeric or categorical column to score (its columns: "at")');
  });
});
