import { Injectable } from '@nestjs/common';
import { AuditRecorder, checkLength, checkNoNul, checkRequired, excerpt, InvalidArgumentError, NotFoundError, type Caller } from '@trellis/platform';
import { MONITOR_KIND } from '../monitors/monitor.service';
import { PerformanceLedger } from './performance-ledger';
import { classText } from './performance-metrics';
import { PerformanceRepository, type LabelRow } from './performance.repository';

/** The bounds PostLabels' contract declares. */
const LIMITS = { labels: 10_000, requestIdLength: 256, categoryLength: 256, endpointNameLength: 128 };

/** One label as posted: exactly one of `number` and `category`. */
export interface PostedLabel {
  requestId: string;
  row: number;
  number?: number;
  category?: string;
}

/** What PostLabels answers. */
export interface PostedLabels {
  /** Every label posted. */
  accepted: number;
  /** Labels whose prediction some monitor of the endpoint recorded already. */
  matched: number;
}

/**
 * Labels posted for an endpoint's logged predictions: stored by (project, endpoint, request id,
 * row), joined to the predictions the endpoint's monitors recorded, and the windows holding those
 * measured again, all in one transaction.
 */
@Injectable()
export class LabelService {
  constructor(
    private readonly repository: PerformanceRepository,
    private readonly ledger: PerformanceLedger,
    private readonly audit: AuditRecorder,
  ) {}

  /** Stores the labels (a label posted again replaces the earlier one) and measures the windows they reach. */
  async post(caller: Caller, projectId: string, endpointName: string, labels: readonly PostedLabel[]): Promise<PostedLabels> {
    checkRequired(projectId, 'project_id');
    checkRequired(endpointName, 'endpoint_name');
    checkLength(endpointName, LIMITS.endpointNameLength, 'endpoint_name');
    // Labels change what a project's monitors report: an editor's right, as changing a monitor is.
    caller.assert('update', MONITOR_KIND, { projectId });
    const rows = labelRows(projectId, endpointName, labels);
    return this.repository.transaction(async (tx) => {
      const monitors = await this.repository.monitorsOfEndpoint(tx, projectId, endpointName);
      if (monitors.length === 0) {
        throw new NotFoundError(`no monitor of project ${projectId} watches endpoint "${excerpt(endpointName)}"`, { reason: 'ENDPOINT_NOT_FOUND' });
      }
      await this.repository.upsertLabels(tx, rows, Date.now());
      const measured = monitors.filter((monitor) => monitor.performance);
      const posted = new Set(rows.map((row) => keyOf(row.requestId, row.row)));
      const requestIds = [...new Set(rows.map((row) => row.requestId))];
      const predictions = (await this.repository.predictionsOf(tx, measured.map((monitor) => monitor.id), requestIds)).filter((prediction) =>
        posted.has(keyOf(prediction.requestId, prediction.row)),
      );
      for (const monitor of measured) {
        await this.ledger.labelsArrived(tx, monitor, predictions.filter((prediction) => prediction.monitorId === monitor.id).map((prediction) => prediction.seq));
      }
      await this.audit.recordIn(tx, caller);
      const matched = new Set(predictions.map((prediction) => keyOf(prediction.requestId, prediction.row)));
      return { accepted: labels.length, matched: labels.filter((label) => matched.has(keyOf(label.requestId, label.row))).length };
    });
  }
}

/**
 * The labels as rows, checked: 1 to 10,000, each with a request id of 1 to 256 characters, a row of
 * 0 or more and exactly one value (a finite number, or a category of at most 256 characters). A key
 * posted twice keeps its last label, as two posts would.
 */
function labelRows(projectId: string, endpointName: string, labels: readonly PostedLabel[]): LabelRow[] {
  if (labels.length === 0) throw new InvalidArgumentError('post at least one label', 'labels');
  if (labels.length > LIMITS.labels) throw new InvalidArgumentError(`are ${labels.length}; the limit is ${LIMITS.labels} a call`, 'labels');
  const rows = new Map<string, LabelRow>();
  labels.forEach((label, index) => {
    const field = `labels[${index}]`;
    checkRequired(label.requestId, `${field}.request_id`);
    checkLength(label.requestId, LIMITS.requestIdLength, `${field}.request_id`);
    if (!Number.isInteger(label.row) || label.row < 0) throw new InvalidArgumentError(`is ${label.row}; a row is 0 or more`, `${field}.row`);
    let row: LabelRow;
    if (label.number !== undefined && label.category === undefined) {
      if (!Number.isFinite(label.number)) throw new InvalidArgumentError(`is ${label.number}; a label is a finite number`, `${field}.number`);
      row = { projectId, endpointName, requestId: label.requestId, row: label.row, labelClass: classText(label.number), labelValue: label.number };
    } else if (label.category !== undefined && label.number === undefined) {
      checkLength(label.category, LIMITS.categoryLength, `${field}.category`);
      checkNoNul(label.category, `${field}.category`);
      row = { projectId, endpointName, requestId: label.requestId, row: label.row, labelClass: label.category, labelValue: null };
    } else {
      throw new InvalidArgumentError('set exactly one of number and category', `${field}.value`);
    }
    const key = keyOf(row.requestId, row.row);
    // Delete first, so the key takes its last position too: a multi-row upsert may not touch a row twice.
    rows.delete(key);
    rows.set(key, row);
  });
  return [...rows.values()];
}

function keyOf(requestId: string, row: number): string {
  return `${row}:${requestId}`;
}
