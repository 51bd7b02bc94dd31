import type { GatewayClient } from '@trellis/client';
import type { AuditFilterJson, ExportAuditRecordsResponseJson, ListAuditRecordsResponseJson } from '@trellis/proto/trellis/governance/v1/audit_service_pb';
import type { AuditRecordJson } from '@trellis/proto/trellis/governance/v1/resources_pb';

/** What the audit page asks for: the server's AuditFilter, and what the page matches itself (AuditFilter has no action or method). */
export interface AuditQuery {
  filter: AuditFilterJson;
  /** The record's action (read, create, update, delete, manage), exactly; empty matches all. */
  action: string;
  /** Part of the record's gRPC method, case-insensitive; empty matches all. */
  method: string;
}

/** Records a page of results shows, at least (a page read whole may add some). */
export const AUDIT_PAGE_SIZE = 50;
/** Records read at most for one page of results, however few match, so a rare action never stalls the page. */
const MAX_SCANNED = 5000;

/** One page of results: records oldest first, where the next page starts (empty: none), and how many records were read. */
export interface AuditResults {
  records: AuditRecordJson[];
  nextPageToken: string;
  scanned: number;
}

/**
 * A page of records that match `query`, from `pageToken` on: server pages are read until
 * AUDIT_PAGE_SIZE match, the log ends, or MAX_SCANNED were read.
 */
export async function searchAudit(client: GatewayClient, query: AuditQuery, pageToken: string, signal?: AbortSignal): Promise<AuditResults> {
  const narrowed = query.action !== '' || query.method !== '';
  const records: AuditRecordJson[] = [];
  let scanned = 0;
  do {
    const page = await client.call<ListAuditRecordsResponseJson>('trellis.governance.v1.AuditService/ListAuditRecords', { filter: query.filter, pageSize: narrowed ? 500 : AUDIT_PAGE_SIZE, pageToken }, { signal });
    scanned += page.records?.length ?? 0;
    records.push(...(page.records ?? []).filter((record) => matches(record, query)));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken && records.length < AUDIT_PAGE_SIZE && scanned < MAX_SCANNED);
  return { records, nextPageToken: pageToken, scanned };
}

/** The export of `query` as JSON Lines (records and checkpoints, as the server streams them), narrowed by action and method. */
export async function exportAudit(client: GatewayClient, query: AuditQuery, onLine: (count: number) => void): Promise<Blob> {
  const lines: string[] = [];
  for await (const message of client.stream<ExportAuditRecordsResponseJson>('trellis.governance.v1.AuditService/ExportAuditRecords', { filter: query.filter })) {
    const line = message.line ?? '';
    if ((query.action || query.method) && !lineMatches(line, query)) continue;
    lines.push(line);
    onLine(lines.length);
  }
  return new Blob(lines, { type: 'application/x-ndjson' });
}

function matches(record: AuditRecordJson, query: AuditQuery): boolean {
  if (query.action && record.event?.action !== query.action) return false;
  if (query.method && !(record.event?.method ?? '').toLowerCase().includes(query.method.toLowerCase())) return false;
  return true;
}

/** Checkpoint lines stay in a narrowed export: they vouch for the chain, whatever was left out. */
function lineMatches(line: string, query: AuditQuery): boolean {
  const value = JSON.parse(line) as AuditRecordJson & { checkpoint?: unknown };
  return value.checkpoint !== undefined || matches(value, query);
}
