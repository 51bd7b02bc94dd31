import type { GatewayClient } from '@trellis/client';
import type { AuditFilterJson, ExportAuditRecordsResponseJson, ListAuditRecordsResponseJson } from '@trellis/proto/trellis/governance/v1/audit_service_pb';
import type { AuditRecordJson } from '@trellis/proto/trellis/governance/v1/resources_pb';

/** What the audit page asks for: the server's AuditFilter (project, actor, action, method, resource, time). */
export type AuditQuery = AuditFilterJson;

/** Records a page of results shows. */
export const AUDIT_PAGE_SIZE = 50;

/** One page of results: records oldest first, and where the next page starts (empty: none). */
export interface AuditResults {
  records: AuditRecordJson[];
  nextPageToken: string;
}

/** A page of the records that match `query`, from `pageToken` on (the server filters and pages). */
export async function searchAudit(client: GatewayClient, query: AuditQuery, pageToken: string, signal?: AbortSignal): Promise<AuditResults> {
  const page = await client.call<ListAuditRecordsResponseJson>('trellis.governance.v1.AuditService/ListAuditRecords', { filter: query, pageSize: AUDIT_PAGE_SIZE, pageToken }, { signal });
  return { records: page.records ?? [], nextPageToken: page.nextPageToken ?? '' };
}

/** The export of `query` as JSON Lines (records and the checkpoints that vouch for them, as the server streams them). */
export async function exportAudit(client: GatewayClient, query: AuditQuery, onLine: (count: number) => void): Promise<Blob> {
  const lines: string[] = [];
  for await (const message of client.stream<ExportAuditRecordsResponseJson>('trellis.governance.v1.AuditService/ExportAuditRecords', { filter: query })) {
    lines.push(message.line ?? '');
    onLine(lines.length);
  }
  return new Blob(lines, { type: 'application/x-ndjson' });
}
