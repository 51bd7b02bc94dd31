import type { ApiKeyJson, PrincipalJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { eventually, seedName, seedProject, seedUser } from '@trellis/testing';
import { EXIT } from './exit-codes';
import { jsonOf, runCli } from '../test/run-cli';

describe('trellis admin', () => {
  it('creates a user and a service account, and lists each kind', async () => {
    const userName = seedName('cli-admin-user');
    const created = jsonOf<PrincipalJson>(await runCli(['admin', 'users', 'create', userName, '--display-name', 'Ada Lovelace', '--org-admin', '-o', 'json']));
    expect(created).toMatchObject({ name: userName, displayName: 'Ada Lovelace', orgAdmin: true, kind: 'PRINCIPAL_KIND_USER' });
    const accountName = seedName('cli-admin-robot');
    const account = await runCli(['admin', 'service-accounts', 'create', accountName]);
    expect(account.stdout).toMatch(new RegExp(`^Created service account ${accountName} \\(`));

    const users = jsonOf<PrincipalJson[]>(await runCli(['admin', 'users', 'list', '-o', 'json']));
    expect(users.map((user) => user.name)).toContain(userName);
    expect(users.map((user) => user.name)).not.toContain(accountName);
    const accounts = jsonOf<PrincipalJson[]>(await runCli(['admin', 'service-accounts', 'list', '-o', 'json']));
    expect(accounts.map((principal) => principal.name)).toContain(accountName);

    const taken = await runCli(['admin', 'users', 'create', userName]);
    expect(taken.code).toBe(EXIT.conflict);
  });

  it('creates a key limited to a project (the secret alone on stdout), lists it, revokes it, and the key is then refused', async () => {
    const { projectId, name } = await seedProject('cli-admin-keys');
    const { principalId } = await seedUser(projectId, 'editor', 'cli-admin-key-owner');

    const created = await runCli(['admin', 'keys', 'create', '--principal', principalId, '--name', 'ci', '--for-project', name, '--expires-in', '30d']);
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/Store the secret below now: it is shown only this once/);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const projects = jsonOf<Array<{ id: string }>>(await runCli(['projects', 'list', '-o', 'json'], { apiKey: secret }));
    expect(projects.map((project) => project.id)).toEqual([projectId]);

    const keys = jsonOf<ApiKeyJson[]>(await runCli(['admin', 'keys', 'list', '--principal', principalId, '-o', 'json']));
    const key = keys.find((candidate) => candidate.name === 'ci');
    expect(key).toMatchObject({ principalId, projectIds: [projectId] });
    expect(Date.parse(key?.expireTime ?? '')).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const table = await runCli(['admin', 'keys', 'list', '--principal', principalId]);
    expect(table.stdout).toMatch(new RegExp(`${key?.id}\\s+ci\\s+active\\s+${projectId}`));

    const revoked = await runCli(['admin', 'keys', 'revoke', key?.id ?? '']);
    expect(revoked.stdout).toBe(`Revoked API key ${key?.id} (ci) of ${principalId}.\n`);
    // The gateway drops the key's cached token when the revocation reaches it (within seconds).
    const refused = await eventually(async () => {
      const result = await runCli(['projects', 'list'], { apiKey: secret });
      expect(result.code).toBe(EXIT.unauthenticated);
      return result;
    });
    expect(refused.stderr).toMatch(/trellis login/);
    expect((await runCli(['admin', 'keys', 'list', '--principal', principalId])).stdout).toMatch(new RegExp(`${key?.id}\\s+ci\\s+revoked`));
  });

  it("lists one principal's roles across projects", async () => {
    const first = await seedProject('cli-admin-roles-a');
    const second = await seedProject('cli-admin-roles-b');
    const { principalId } = await seedUser(first.projectId, 'viewer', 'cli-admin-roles-user');
    await runCli(['members', 'set', principalId, '--role', 'editor', '--project', second.name]);

    const rows = jsonOf<Array<{ project: string; principalId: string; role: string }>>(await runCli(['admin', 'roles', 'list', '--principal', principalId, '-o', 'json']));
    expect(rows.map((row) => [row.project, row.role]).sort()).toEqual([
      [first.name, 'viewer'],
      [second.name, 'editor'],
    ]);
    const inOne = await runCli(['admin', 'roles', 'list', '--project', second.name]);
    expect(inOne.stdout.split('\n')[0]).toMatch(/^PROJECT\s+PRINCIPAL\s+PRINCIPAL ID\s+ROLE$/);
    expect(inOne.stdout).toMatch(new RegExp(`${principalId}\\s+editor`));
  });

  it("refuses a viewer the org's principals and other principals' keys with exit code 4, and lets it list its own keys", async () => {
    const { projectId } = await seedProject('cli-admin-viewer');
    const viewer = await seedUser(projectId, 'viewer', 'cli-admin-viewer');
    const other = await seedUser(projectId, 'viewer', 'cli-admin-other');

    const users = await runCli(['admin', 'users', 'list'], { apiKey: viewer.apiKey });
    expect(users.code).toBe(EXIT.permissionDenied);
    const createUser = await runCli(['admin', 'users', 'create', seedName('cli-admin-nope')], { apiKey: viewer.apiKey });
    expect(createUser.code).toBe(EXIT.permissionDenied);
    const othersKey = await runCli(['admin', 'keys', 'create', '--principal', other.principalId], { apiKey: viewer.apiKey });
    expect(othersKey.code).toBe(EXIT.permissionDenied);

    const own = jsonOf<ApiKeyJson[]>(await runCli(['admin', 'keys', 'list', '-o', 'json'], { apiKey: viewer.apiKey }));
    expect(own.map((key) => [key.principalId, key.name])).toEqual([[viewer.principalId, 'viewer-key']]);
  });

  it('refuses an expiry it cannot read, and names a principal it cannot find', async () => {
    const expiry = await runCli(['admin', 'keys', 'create', '--expires-in', 'forever']);
    expect(expiry.code).toBe(EXIT.usage);
    expect(expiry.stderr).toMatch(/--expires-in "forever" is not a duration: give a number and a unit \(12h, 30d\)/);
    const missing = await runCli(['admin', 'keys', 'list', '--principal', 'nobody-by-this-name']);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toMatch(/no user or service account named "nobody-by-this-name"/);
  });
});
