import { Injectable } from '@nestjs/common';
import { checkRequired, decodePageToken, excerpt, InvalidArgumentError, NotFoundError, pageOf, pageSizeOf, SEQUENCE_POSITION, type Caller } from '@trellis/platform';
import type { WindowResult } from '@trellis/proto';
import { MONITOR_KIND } from '../monitors/monitor.service';
import { PerformanceLedger } from '../performance/performance-ledger';
import { windowToProto } from './window.mapping';
import { WindowRepository } from './window.repository';

/** Which of a monitor's windows to list, and which page. */
export interface WindowResultsQuery {
  monitorId: string;
  /** Windows closed at or after it; undefined from the first. */
  fromMs?: number;
  /** Windows closed before it; undefined to the last. */
  toMs?: number;
  pageSize: number;
  pageToken: string;
}

/** A monitor's scored windows, as ListWindowResults pages through them. */
@Injectable()
export class WindowResults {
  constructor(
    private readonly repository: WindowRepository,
    private readonly ledger: PerformanceLedger,
  ) {}

  /** A page of the monitor's windows in window order, with their verdicts and performance, if the caller may read the monitor. */
  async list(caller: Caller, query: WindowResultsQuery): Promise<{ windows: WindowResult[]; nextPageToken: string }> {
    checkRequired(query.monitorId, 'monitor_id');
    const size = pageSizeOf(query.pageSize);
    if (query.fromMs !== undefined && query.toMs !== undefined && query.toMs < query.fromMs) throw new InvalidArgumentError('is before start_time', 'end_time');
    const listing = { monitorId: query.monitorId, fromMs: query.fromMs, toMs: query.toMs };
    const after = Number(decodePageToken(query.pageToken, listing, SEQUENCE_POSITION) ?? 0);
    const monitor = await this.repository.findMonitor(query.monitorId);
    if (!monitor || !caller.can('read', MONITOR_KIND, { projectId: monitor.projectId, id: monitor.id })) {
      throw new NotFoundError(`monitor ${excerpt(query.monitorId)} not found`, { reason: 'MONITOR_NOT_FOUND' });
    }
    const rows = await this.repository.page(monitor.id, after, query.fromMs ?? 0, query.toMs ?? Number.MAX_SAFE_INTEGER, size + 1);
    const { items, nextPageToken } = pageOf(rows, size, ({ window }) => String(window.number), listing);
    const performance = items.length ? await this.ledger.forWindows(monitor.id, items.map(({ window }) => window.number)) : new Map();
    const windows = items.map(({ window, results }) => windowToProto({ ...window, closedAtMs: window.closedAt, columns: results }, performance.get(window.number)));
    return { windows, nextPageToken };
  }
}
