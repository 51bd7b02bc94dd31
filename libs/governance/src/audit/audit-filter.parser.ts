import { InvalidArgumentError, PermissionDeniedError, type Caller } from '@trellis/platform';
import type { AuditFilter } from '@trellis/proto';
import { microsOf } from './audit.mapping';
import type { RecordFilter } from './audit-record.repository';

const MAX_FILTER_LENGTH = 1024;

/**
 * Turns a request's AuditFilter into a query the caller is allowed to run: only projects where the
 * caller may read `Audit` (project admins and owners; every project for an org admin), and only
 * the named project if there is one, which the caller must be allowed to read.
 *
 * @throws InvalidArgumentError naming the field; PermissionDeniedError for a project the caller may not
 *   read, or if there is none it may read.
 */
export function recordFilterFor(filter: AuditFilter | undefined, caller: Caller): RecordFilter {
  const projectId = checked(filter?.projectId ?? '', 'filter.project_id');
  const actor = checked(filter?.actor ?? '', 'filter.actor');
  const onBehalfOf = checked(filter?.onBehalfOf ?? '', 'filter.on_behalf_of');
  const resource = checked(filter?.resource ?? '', 'filter.resource');
  const action = checked(filter?.action ?? '', 'filter.action');
  const method = checked(filter?.method ?? '', 'filter.method');
  const projects = caller.projectsWhere('read', 'Audit');
  // The kit's guard lets a role through on kind alone, which conditional denials (Audit for editors) do not narrow.
  if (projects !== 'all' && projects.length === 0) {
    throw new PermissionDeniedError(`${caller.principal?.id ?? 'anonymous'} has no role that may read Audit in any project`);
  }
  if (projectId && projects !== 'all') caller.assert('read', 'Audit', { projectId });
  const query: RecordFilter = { projects };
  if (projectId) query.projectId = projectId;
  if (actor) query.actor = actor;
  if (onBehalfOf) query.onBehalfOf = onBehalfOf;
  if (resource) query.resource = resourceMatch(resource);
  if (action) query.action = action;
  if (method) query.method = method.includes('/') ? { exact: method } : { name: method };
  if (filter?.startTime) query.startUs = microsOf(filter.startTime);
  if (filter?.endTime) query.endUs = microsOf(filter.endTime);
  if (query.startUs !== undefined && query.endUs !== undefined && query.endUs <= query.startUs) {
    throw new InvalidArgumentError('must be after filter.start_time', 'filter.end_time');
  }
  return query;
}

function resourceMatch(resource: string): RecordFilter['resource'] {
  const star = resource.indexOf('*');
  if (star === -1) return { exact: resource };
  if (star !== resource.length - 1) throw new InvalidArgumentError('may contain * only as its last character (a prefix match)', 'filter.resource');
  return { prefix: resource.slice(0, -1) };
}

function checked(value: string, field: string): string {
  if (value.length > MAX_FILTER_LENGTH) throw new InvalidArgumentError(`must be at most ${MAX_FILTER_LENGTH} characters`, field);
  return value;
}
