import { FailedPreconditionError } from '@trellis/platform';
import { resolveTensorColumns, type TensorDescription } from './column-resolution';
import { pendingMonitor } from './monitor.fixture';

const CHURN: TensorDescription[] = [
  { name: 'x', datatype: 'FP32', shape: [-1, 3], output: false },
  { name: 'y', datatype: 'FP32', shape: [-1, 2], output: true },
];
const PROFILE = ['age', 'plan_fee', 'tenure', 'churned'];

/** What a call throws, as the client would read it: its reason and message. */
function refusal(call: () => unknown): { reason: string; message: string } {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(FailedPreconditionError);
    return { reason: (error as FailedPreconditionError).reason, message: (error as Error).message };
  }
  throw new Error('it did not throw');
}

describe('resolveTensorColumns', () => {
  it('names a one-dimensional tensor and one of shape [rows, 1] as the tensor, kinds by datatype', () => {
    const tensors: TensorDescription[] = [
      { name: 'age', datatype: 'INT64', shape: [-1], output: false },
      { name: 'plan', datatype: 'BYTES', shape: [-1, 1], output: false },
      { name: 'member', datatype: 'BOOL', shape: [4], output: false },
      { name: 'score', datatype: 'FP64', shape: [-1, 1], output: true },
    ];
    expect(resolveTensorColumns(pendingMonitor(), tensors)).toEqual([
      { name: 'age', kind: 'numeric', output: false, tensor: 'age', index: 0, detector: '', threshold: 0 },
      { name: 'plan', kind: 'categorical', output: false, tensor: 'plan', index: 0, detector: '', threshold: 0 },
      { name: 'member', kind: 'categorical', output: false, tensor: 'member', index: 0, detector: '', threshold: 0 },
      { name: 'score', kind: 'numeric', output: true, tensor: 'score', index: 0, detector: '', threshold: 0 },
    ]);
  });

  it('names the columns of a [rows, k] tensor tensor[i] without a reference, and by tensor_columns when given', () => {
    const named = pendingMonitor({ tensorColumns: [{ tensor: 'y', names: ['stay', 'leave'] }] });
    expect(resolveTensorColumns(pendingMonitor(), CHURN).map(({ name, tensor, index }) => [name, tensor, index])).toEqual([
      ['x[0]', 'x', 0],
      ['x[1]', 'x', 1],
      ['x[2]', 'x', 2],
      ['y[0]', 'y', 0],
      ['y[1]', 'y', 1],
    ]);
    expect(resolveTensorColumns(named, CHURN).map(({ name }) => name)).toEqual(['x[0]', 'x[1]', 'x[2]', 'stay', 'leave']);
  });

  it("names an input's columns by the reference's first k when it has k or k + 1, and keeps only the reference's columns", () => {
    expect(resolveTensorColumns(pendingMonitor(), CHURN, PROFILE).map(({ name, index, output }) => [name, index, output])).toEqual([
      ['age', 0, false],
      ['plan_fee', 1, false],
      ['tenure', 2, false],
    ]);
    expect(resolveTensorColumns(pendingMonitor(), CHURN, PROFILE.slice(0, 3)).map(({ name }) => name)).toEqual(['age', 'plan_fee', 'tenure']);
  });

  it('scores an output whose column is named like a reference column', () => {
    const monitor = pendingMonitor({ tensorColumns: [{ tensor: 'y', names: ['stays', 'churned'] }] });
    expect(resolveTensorColumns(monitor, CHURN, PROFILE).map(({ name, output, index }) => [name, output, index])).toEqual([
      ['age', false, 0],
      ['plan_fee', false, 1],
      ['tenure', false, 2],
      ['churned', true, 1],
    ]);
  });

  it('refuses an input tensor none of whose columns the reference has, saying to name them', () => {
    const { reason, message } = refusal(() => resolveTensorColumns(pendingMonitor(), CHURN, ['a', 'b', 'c', 'd', 'e']));
    expect(reason).toBe('COLUMNS_UNRESOLVED');
    expect(message).toContain('input tensor "x"');
    expect(message).toContain('tensor_columns');
  });

  it('refuses tensor_columns of the wrong length or for a tensor the model lacks', () => {
    expect(refusal(() => resolveTensorColumns(pendingMonitor({ tensorColumns: [{ tensor: 'x', names: ['a'] }] }), CHURN)).message).toBe(
      'tensor_columns gives 1 names for tensor "x", whose shape [-1, 3] has 3 columns',
    );
    expect(refusal(() => resolveTensorColumns(pendingMonitor({ tensorColumns: [{ tensor: 'z', names: ['a'] }] }), CHURN)).message).toBe(
      'tensor_columns names tensor "z", which the model does not have; it has "x", "y"',
    );
  });

  it('keeps the requested columns, refusing a name it cannot find', () => {
    expect(resolveTensorColumns(pendingMonitor({ requestedColumns: ['tenure', 'age'] }), CHURN, PROFILE).map(({ name }) => name)).toEqual(['age', 'tenure']);
    const { reason, message } = refusal(() => resolveTensorColumns(pendingMonitor({ requestedColumns: ['age', 'income'] }), CHURN, PROFILE));
    expect(reason).toBe('COLUMNS_UNRESOLVED');
    expect(message).toContain('"income"');
  });

  it("applies a column's detector and threshold override, refusing one for a column not scored", () => {
    const monitor = pendingMonitor({ detectors: [{ column: 'tenure', detector: 'psi', threshold: 0.3 }] });
    expect(resolveTensorColumns(monitor, CHURN, PROFILE).find(({ name }) => name === 'tenure')).toMatchObject({ detector: 'psi', threshold: 0.3 });
    expect(refusal(() => resolveTensorColumns(pendingMonitor({ detectors: [{ column: 'income', detector: 'psi', threshold: 0 }] }), CHURN, PROFILE)).message).toContain(
      'detectors names column "income"',
    );
  });

  it('refuses two columns of the same name', () => {
    const monitor = pendingMonitor({ tensorColumns: [{ tensor: 'y', names: ['x[0]', 'x[1]'] }] });
    expect(refusal(() => resolveTensorColumns(monitor, CHURN)).message).toContain('two columns are named "x[0]"');
  });

  it('leaves out tensors of more than two dimensions', () => {
    const tensors: TensorDescription[] = [
      { name: 'image', datatype: 'UINT8', shape: [-1, 28, 28], output: false },
      { name: 'label', datatype: 'INT64', shape: [-1], output: true },
    ];
    expect(resolveTensorColumns(pendingMonitor(), tensors).map(({ name }) => name)).toEqual(['label']);
  });
});
