import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { ColumnResultSchema, PerformanceResultSchema, WindowResultSchema, type WindowResult } from '@trellis/proto';
import type { WindowPerformance } from '../performance/window-performance';
import type { ColumnVerdict, ScoredWindow } from './scored-window';

/** What a window result is made of: a window as scored or as stored, and its columns' verdicts. */
type WindowFields = Pick<ScoredWindow, 'monitorId' | 'number' | 'startMs' | 'endMs' | 'rows' | 'driftedColumns' | 'driftShare' | 'datasetDrift' | 'closedAtMs'> & {
  columns: readonly ColumnVerdict[];
};

/** The proto of a scored window, with its performance once labels arrived. */
export function windowToProto(window: WindowFields, performance?: WindowPerformance): WindowResult {
  return create(WindowResultSchema, {
    monitorId: window.monitorId,
    number: BigInt(window.number),
    startTime: timestampFromMs(window.startMs),
    endTime: timestampFromMs(window.endMs),
    rows: BigInt(window.rows),
    columns: window.columns.map((column) =>
      create(ColumnResultSchema, {
        column: column.column,
        detector: column.detector,
        pValue: column.pValue,
        statistic: column.statistic,
        value: column.value,
        threshold: column.threshold,
        drifted: column.drifted,
        rows: BigInt(column.rows),
        missingRate: column.missingRate,
        error: column.error,
      }),
    ),
    driftedColumns: window.driftedColumns,
    driftShare: window.driftShare,
    datasetDrift: window.datasetDrift,
    performance: performance && create(PerformanceResultSchema, { ...performance, labeledRows: BigInt(performance.labeledRows) }),
    closeTime: timestampFromMs(window.closedAtMs),
  });
}
