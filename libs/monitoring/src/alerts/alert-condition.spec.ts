import type { ColumnVerdict, ScoredWindow } from '../windows/scored-window';
import { judgePerformanceCondition, judgeWindowCondition } from './alert-condition';

const verdict = (column: string, value: number, fields: Partial<ColumnVerdict> = {}): ColumnVerdict => ({
  column,
  detector: 'wasserstein',
  pValue: false,
  statistic: value,
  value,
  threshold: 0.1,
  drifted: value > 0.1,
  rows: 100,
  missingRate: 0,
  error: '',
  ...fields,
});

const window = (columns: ColumnVerdict[], driftShare = 0): ScoredWindow => ({
  monitorId: 'm',
  projectId: 'p',
  monitorName: 'churn-drift',
  endpointName: 'churn',
  number: 1,
  startMs: 0,
  endMs: 1000,
  closedAtMs: 1000,
  rows: 100,
  firstSeq: 1,
  lastSeq: 100,
  columns,
  driftedColumns: columns.filter(({ drifted }) => drifted).length,
  driftShare,
  datasetDrift: driftShare >= 0.5,
  revisionIds: [],
});

const performance = { labeledRows: 50, accuracy: 0.7, precision: 0.6, recall: 0.5, f1: 0.55, mae: 0, rmse: 0 };

describe('judging a rule\'s condition', () => {
  it('holds a drift share condition at or above its bound, saying so', () => {
    expect(judgeWindowCondition({ kind: 'drift_share', atLeast: 0.5 }, window([], 2 / 3))).toEqual({ value: 2 / 3, holds: true, summary: 'dataset drift 0.67 >= 0.5' });
    expect(judgeWindowCondition({ kind: 'drift_share', atLeast: 0.5 }, window([], 0.25))).toMatchObject({ holds: false, summary: 'dataset drift 0.25 < 0.5' });
  });

  it('holds a column distance above its bound, and a p-value below its bound', () => {
    const distance = window([verdict('tenure', 0.31)]);
    expect(judgeWindowCondition({ kind: 'column_distance', column: 'tenure', above: 0.2, below: 0 }, distance)).toEqual({ value: 0.31, holds: true, summary: 'tenure distance 0.31 > 0.2' });
    expect(judgeWindowCondition({ kind: 'column_distance', column: 'tenure', above: 0.5, below: 0 }, distance)).toMatchObject({ holds: false });
    const pValue = window([verdict('plan', 0.001, { pValue: true, detector: 'chi-square' })]);
    expect(judgeWindowCondition({ kind: 'column_distance', column: 'plan', above: 0, below: 0.05 }, pValue)).toEqual({ value: 0.001, holds: true, summary: 'plan p-value 0.001 < 0.05' });
  });

  it('cannot judge a column the window did not score, so the alert stays as it is', () => {
    expect(judgeWindowCondition({ kind: 'column_distance', column: 'tenure', above: 0.2, below: 0 }, window([verdict('plan', 0.9)]))).toBeUndefined();
    expect(judgeWindowCondition({ kind: 'column_distance', column: 'tenure', above: 0.2, below: 0 }, window([verdict('tenure', NaN, { error: 'no values in the window' })]))).toBeUndefined();
  });

  it('holds a missing rate above its bound, for one column or the worst of any', () => {
    const columns = [verdict('tenure', 0, { missingRate: 0.05 }), verdict('plan', 0, { missingRate: 0.4 })];
    expect(judgeWindowCondition({ kind: 'missing_rate', column: 'tenure', above: 0.1 }, window(columns))).toMatchObject({ value: 0.05, holds: false });
    expect(judgeWindowCondition({ kind: 'missing_rate', column: '', above: 0.1 }, window(columns))).toEqual({ value: 0.4, holds: true, summary: 'plan missing rate 0.4 > 0.1' });
  });

  it('leaves performance conditions to the window\'s performance', () => {
    expect(judgeWindowCondition({ kind: 'performance', metric: 'accuracy', below: 0.8, above: 0, minLabeledRows: 1 }, window([], 1))).toBeUndefined();
  });

  it('holds a classification metric below its bound and a regression metric above it, once enough rows are labelled', () => {
    expect(judgePerformanceCondition({ kind: 'performance', metric: 'accuracy', below: 0.8, above: 0, minLabeledRows: 10 }, performance)).toEqual({
      value: 0.7,
      holds: true,
      summary: 'accuracy 0.7 < 0.8 over 50 labeled rows',
    });
    expect(judgePerformanceCondition({ kind: 'performance', metric: 'rmse', below: 0, above: 2, minLabeledRows: 0 }, { ...performance, rmse: 1.5 })).toMatchObject({ holds: false });
    expect(judgePerformanceCondition({ kind: 'performance', metric: 'accuracy', below: 0.8, above: 0, minLabeledRows: 51 }, performance)).toBeUndefined();
  });
});
