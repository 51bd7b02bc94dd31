import { auditResourceName, resourceName } from './resource-name';

describe('resourceName', () => {
  it('names a resource by its collections and ids, outermost first', () => {
    expect(resourceName(['projects', 'p1'], ['models', 'churn'], ['aliases', 'champion'])).toBe('projects/p1/models/churn/aliases/champion');
    expect(resourceName(['projects', 'p1'], ['models', 'churn'], ['versions', 3])).toBe('projects/p1/models/churn/versions/3');
    expect(resourceName(['runs', 'a1b2'])).toBe('runs/a1b2');
  });

  it('percent-encodes only % and /, so a name stays readable, one holding a slash stays one segment, and each segment decodes back', () => {
    const name = resourceName(['projects', 'p1'], ['models', 'team/churn 100%'], ['aliases', 'a@b']);
    expect(name).toBe('projects/p1/models/team%2Fchurn 100%25/aliases/a@b');
    expect(name.split('/').map(decodeURIComponent)).toEqual(['projects', 'p1', 'models', 'team/churn 100%', 'aliases', 'a@b']);
  });
});

describe('auditResourceName', () => {
  it('names a resource of a project under it, and runs, projects and the org’s principals and keys from the top', () => {
    expect(auditResourceName({ kind: 'Experiment', projectId: 'p1', id: '7' })).toBe('projects/p1/experiments/7');
    expect(auditResourceName({ kind: 'Member', projectId: 'p1', id: 'u-1' })).toBe('projects/p1/members/u-1');
    expect(auditResourceName({ kind: 'Run', projectId: 'p1', id: 'r-1' })).toBe('runs/r-1');
    expect(auditResourceName({ kind: 'Project', projectId: 'p1', id: 'p1' })).toBe('projects/p1');
    expect(auditResourceName({ kind: 'ApiKey', projectId: '', id: 'k1' })).toBe('apiKeys/k1');
    expect(auditResourceName({ kind: 'Principal', projectId: '', id: 'u-1' })).toBe('principals/u-1');
  });

  it('names the collection when the call named no member, as a create refused before it had an id', () => {
    expect(auditResourceName({ kind: 'Widget', projectId: 'p1' })).toBe('projects/p1/widgets');
    expect(auditResourceName({ kind: 'Project', projectId: '' })).toBe('projects');
    expect(auditResourceName({ kind: 'Audit', projectId: 'p1' })).toBe('projects/p1/auditRecords');
    expect(auditResourceName({ kind: '', projectId: '' })).toBe('');
  });

  it('takes the full name its service gave a resource under another, and names the parent collection without one', () => {
    const name = resourceName(['projects', 'p1'], ['models', 'churn'], ['aliases', 'champion']);
    expect(auditResourceName({ kind: 'Alias', projectId: 'p1', id: 'churn@champion', name })).toBe(name);
    expect(auditResourceName({ kind: 'ModelVersion', projectId: 'p1', id: 'churn/3' })).toBe('projects/p1/models');
  });

  it('encodes an id as one segment', () => {
    expect(auditResourceName({ kind: 'Model', projectId: 'p1', id: 'a/b' })).toBe('projects/p1/models/a%2Fb');
  });
});
