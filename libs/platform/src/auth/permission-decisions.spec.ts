import { createMongoAbility } from '@casl/ability';
import { abilityFor, type AppAbility } from './ability';
import { allows } from './permission-decisions';
import type { Principal } from './principal';

const viewer: Principal = { id: 'u1', kind: 'user', orgId: 'o1', orgAdmin: false, bindings: [{ projectId: 'p1', role: 'viewer' }], expiresAt: Date.now() + 60_000, scoped: false };

describe('allows', () => {
  it('answers as CASL does, project by project, on repeated checks', () => {
    const ability = abilityFor(viewer);
    for (let round = 0; round < 2; round++) {
      expect(allows(ability, 'read', 'Run', { projectId: 'p1' })).toBe(true);
      expect(allows(ability, 'read', 'Run', { projectId: 'p2' })).toBe(false);
      expect(allows(ability, 'update', 'Run', { projectId: 'p1' })).toBe(false);
      expect(allows(ability, 'read', 'Audit', { projectId: 'p1' })).toBe(false);
    }
  });

  it('checks org-level resources every time against their org', () => {
    const admin = abilityFor({ ...viewer, orgAdmin: true, bindings: [] });
    expect(allows(admin, 'update', 'Project', { projectId: 'p9', orgId: 'o1' })).toBe(true);
    expect(allows(admin, 'update', 'Project', { projectId: 'p9', orgId: 'o2' })).toBe(false);
    expect(allows(admin, 'update', 'Project', { projectId: 'p9' })).toBe(false);
  });

  it('asks CASL every time when a rule reads another field, and afresh once the rules change', () => {
    const byId: AppAbility = createMongoAbility([{ action: 'read', subject: 'Run', conditions: { projectId: 'p1', id: 'r1' } }]);
    expect(allows(byId, 'read', 'Run', { projectId: 'p1', id: 'r1' } as { projectId: string })).toBe(true);
    expect(allows(byId, 'read', 'Run', { projectId: 'p1', id: 'r2' } as { projectId: string })).toBe(false);

    const ability = abilityFor(viewer);
    expect(allows(ability, 'read', 'Run', { projectId: 'p1' })).toBe(true);
    ability.update([]);
    expect(allows(ability, 'read', 'Run', { projectId: 'p1' })).toBe(false);
  });
});
