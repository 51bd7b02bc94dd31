import type { GatewayClient } from '@trellis/client';
import type { AuditFilterJson, ListAuditRecordsResponseJson } from '@trellis/proto/trellis/governance/v1/audit_service_pb';
import type { AuditRecordJson } from '@trellis/proto/trellis/governance/v1/resources_pb';

/** The permissions an audit record's `action` names (the permission the call needed). */
export const AUDIT_ACTIONS = ['read', 'create', 'update', 'delete', 'manage'] as const;

/** What `audit list` matches on the client, because AuditFilter has no field for it. */
export interface RecordMatch {
  /** The record's action, exactly. */
  action?: string;
  /** Part of the record's gRPC method, case-insensitive (`SetRoleBinding`). */
  method?: string;
}

/** What `audit list` found: at most the records asked for, and whether more match. */
export interface AuditSearch {
  records: AuditRecordJson[];
  more: boolean;
}

/**
 * The first `limit` records, oldest first, that pass `filter` (on the server) and `match` (here,
 * reading on through the server's pages until `limit` have matched or the log ends).
 */
export async function searchAuditRecords(client: GatewayClient, filter: AuditFilterJson, match: RecordMatch, limit: number): Promise<AuditSearch> {
  const records: AuditRecordJson[] = [];
  const pageSize = match.action || match.method ? 1000 : Math.min(limit, 1000);
  let pageToken = '';
  do {
    const page = await client.call<ListAuditRecordsResponseJson>('trellis.governance.v1.AuditService/ListAuditRecords', { filter, pageSize, pageToken });
    records.push(...(page.records ?? []).filter((record) => matches(record, match)));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken && records.length < limit);
  return { records: records.slice(0, limit), more: records.length > limit || pageToken !== '' };
}

function matches(record: AuditRecordJson, match: RecordMatch): boolean {
  if (match.action && record.event?.action !== match.action) return false;
  if (match.method && !(record.event?.method ?? '').toLowerCase().includes(match.method.toLowerCase())) return false;
  return true;
}
