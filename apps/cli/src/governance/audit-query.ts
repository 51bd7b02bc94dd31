import type { GatewayClient } from '@trellis/client';
import type { AuditFilterJson, ListAuditRecordsResponseJson } from '@trellis/proto/trellis/governance/v1/audit_service_pb';
import type { AuditRecordJson } from '@trellis/proto/trellis/governance/v1/resources_pb';

/** The permissions an audit record's `action` names (the permission the call needed). */
export const AUDIT_ACTIONS = ['read', 'create', 'update', 'delete', 'manage'] as const;

/** What `audit list` found: at most the records asked for, and whether more match. */
export interface AuditSearch {
  records: AuditRecordJson[];
  more: boolean;
}

/** The first `limit` records, oldest first, that pass `filter`, read through the server's pages. */
export async function searchAuditRecords(client: GatewayClient, filter: AuditFilterJson, limit: number): Promise<AuditSearch> {
  const records: AuditRecordJson[] = [];
  let pageToken = '';
  do {
    const pageSize = Math.min(limit - records.length, 1000);
    const page = await client.call<ListAuditRecordsResponseJson>('trellis.governance.v1.AuditService/ListAuditRecords', { filter, pageSize, pageToken });
    records.push(...(page.records ?? []));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken && records.length < limit);
  return { records, more: pageToken !== '' };
}
