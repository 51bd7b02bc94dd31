import { abilityFor, RESOURCE_KINDS, type Action } from './ability';
import { Caller } from './caller';
import { PROJECT_ROLES, type Principal, type ProjectRole } from './principal';

const ACTIONS: Action[] = ['read', 'create', 'update', 'delete'];
const ACCESS = new Set(['Project', 'Member', 'ApiKey']);

/**
 * What each role may do, written out as the product promises it (not derived from the rules):
 * viewers read all but the audit log; editors change content; admins also manage access and read
 * the audit log but cannot delete the project; owners may do everything; nobody writes the audit
 * log through an API.
 */
function promised(role: ProjectRole, action: Action, kind: string): boolean {
  if (kind === 'Audit') return action === 'read' && (role === 'admin' || role === 'owner');
  if (role === 'owner') return true;
  if (role === 'admin') return !(action === 'delete' && kind === 'Project');
  if (action === 'read') return true;
  return role === 'editor' && !ACCESS.has(kind);
}

const callerWith = (role: ProjectRole): Caller => {
  const principal: Principal = {
    id: `${role}-1`,
    kind: 'user',
    orgId: 'org-1',
    orgAdmin: false,
    bindings: [{ projectId: 'mine', role }],
    expiresAt: Date.now() + 60_000, scoped: false,
  };
  return new Caller(principal, abilityFor(principal), 'req', undefined, '');
};

describe('the RBAC matrix: every role, action and kind, in its own project and another', () => {
  for (const role of PROJECT_ROLES) {
    const caller = callerWith(role);
    for (const kind of RESOURCE_KINDS) {
      for (const action of ACTIONS) {
        const expected = promised(role, action, kind);
        it(`${role} ${expected ? 'may' : 'may not'} ${action} ${kind} in its project, and never in another`, () => {
          expect(caller.can(action, kind, { projectId: 'mine' })).toBe(expected);
          expect(caller.can(action, kind, { projectId: 'theirs' })).toBe(false);
        });
      }
    }
  }

  it('narrows list queries to the projects where the role allows the action', () => {
    const principal: Principal = {
      id: 'u',
      kind: 'user',
      orgId: 'org-1',
      orgAdmin: false,
      bindings: [
        { projectId: 'a', role: 'viewer' },
        { projectId: 'b', role: 'admin' },
      ],
      expiresAt: Date.now() + 60_000, scoped: false,
    };
    const caller = new Caller(principal, abilityFor(principal), 'req', undefined, '');
    expect(caller.projectsWhere('read', 'Run')).toEqual(['a', 'b']);
    expect(caller.projectsWhere('read', 'Audit')).toEqual(['b']);
    expect(caller.projectsWhere('delete', 'Run')).toEqual(['b']);
  });

  it('lets an org admin act on org-level kinds of its own org only', () => {
    const principal: Principal = { id: 'root', kind: 'user', orgId: 'org-1', orgAdmin: true, bindings: [], expiresAt: Date.now() + 60_000, scoped: false };
    const caller = new Caller(principal, abilityFor(principal), 'req', undefined, '');
    expect(caller.can('create', 'Project', { projectId: '', orgId: 'org-1' })).toBe(true);
    expect(caller.can('create', 'Project', { projectId: '', orgId: 'org-2' })).toBe(false);
    expect(caller.can('read', 'Run', { projectId: 'anything' })).toBe(false);
  });
});
