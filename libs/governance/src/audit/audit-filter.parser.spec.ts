import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { abilityFor, Caller, type Principal } from '@trellis/platform';
import { AuditFilterSchema } from '@trellis/proto';
import { recordFilterFor } from './audit-filter.parser';

function callerWith(principal: Partial<Principal>): Caller {
  const full: Principal = { id: 'user-1', kind: 'user', orgId: 'org-1', orgAdmin: false, bindings: [], expiresAt: Date.now() + 60_000, scoped: false, ...principal };
  return new Caller(full, abilityFor(full), 'req-1', undefined, 'ipv4:127.0.0.1:5000');
}

const adminOfP1AndP2 = callerWith({
  bindings: [
    { projectId: 'p1', role: 'admin' },
    { projectId: 'p2', role: 'owner' },
    { projectId: 'p3', role: 'editor' },
  ],
});
const filter = (fields: Parameters<typeof create<typeof AuditFilterSchema>>[1]) => create(AuditFilterSchema, fields);

describe('audit list requests', () => {
  it('narrow a query to the projects where the caller may read the audit log, or all of them for an org admin', () => {
    expect(recordFilterFor(undefined, adminOfP1AndP2)).toEqual({ projects: ['p1', 'p2'] });
    const orgAdmin = callerWith({ orgAdmin: true });
    expect(recordFilterFor(undefined, orgAdmin)).toEqual({ projects: 'all' });
    expect(recordFilterFor(filter({ projectId: 'p9' }), orgAdmin)).toEqual({ projects: 'all', projectId: 'p9' });
  });

  it('refuse a caller who may read the audit log of no project', () => {
    const editor = callerWith({ id: 'editor-1', bindings: [{ projectId: 'p1', role: 'editor' }] });
    expect(() => recordFilterFor(undefined, editor)).toThrow(
      expect.objectContaining({ code: status.PERMISSION_DENIED, message: 'editor-1 has no role that may read Audit in any project' }),
    );
  });

  it('refuse a project the caller may not read, naming it', () => {
    expect(() => recordFilterFor(filter({ projectId: 'p3' }), adminOfP1AndP2)).toThrow(
      expect.objectContaining({ code: status.PERMISSION_DENIED, message: 'user-1 may not read Audit in project p3' }),
    );
  });

  it('read exact and prefix resource matches, and times in microseconds', () => {
    const query = recordFilterFor(
      filter({ projectId: 'p1', actor: 'user-9', resource: 'runs/*', startTime: { seconds: 10n, nanos: 5000 }, endTime: { seconds: 20n } }),
      adminOfP1AndP2,
    );
    expect(query).toEqual({ projects: ['p1', 'p2'], projectId: 'p1', actor: 'user-9', resource: { prefix: 'runs/' }, startUs: 10_000_005n, endUs: 20_000_000n });
    expect(recordFilterFor(filter({ resource: 'runs/r-1' }), adminOfP1AndP2).resource).toEqual({ exact: 'runs/r-1' });
  });

  it('read on_behalf_of: what services did for a user', () => {
    expect(recordFilterFor(filter({ onBehalfOf: 'user-1' }), adminOfP1AndP2)).toEqual({ projects: ['p1', 'p2'], onBehalfOf: 'user-1' });
  });

  it('read the action and the method of the calls, a full one or its name alone', () => {
    expect(recordFilterFor(filter({ action: 'delete', method: 'trellis.data.v1.DataService/DeleteDataset' }), adminOfP1AndP2)).toEqual({
      projects: ['p1', 'p2'],
      action: 'delete',
      method: { exact: 'trellis.data.v1.DataService/DeleteDataset' },
    });
    expect(recordFilterFor(filter({ method: 'DeleteDataset' }), adminOfP1AndP2).method).toEqual({ name: 'DeleteDataset' });
  });

  it('refuse a * anywhere but at the end of the resource, and an end before the start', () => {
    expect(() => recordFilterFor(filter({ resource: 'runs/*/x' }), adminOfP1AndP2)).toThrow('filter.resource: may contain * only as its last character');
    expect(() => recordFilterFor(filter({ startTime: { seconds: 20n }, endTime: { seconds: 20n } }), adminOfP1AndP2)).toThrow(
      'filter.end_time: must be after filter.start_time',
    );
  });
});
