import type { AuditRecordJson } from '@trellis/proto/trellis/governance/v1/resources_pb';
import { seedProject, seedUser } from '@trellis/testing';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from './exit-codes';
import { verdictText } from './governance/audit-verdict';
import { jsonOf, runCli } from '../test/run-cli';

describe('trellis audit', () => {
  let project: { projectId: string; name: string };
  let editor: { principalId: string; apiKey: string };
  beforeAll(async () => {
    project = await seedProject('cli-audit');
    // Governance audits its own changes in the transaction that makes them: this binding's record is there at once.
    editor = await seedUser(project.projectId, 'editor', 'cli-audit-editor');
  });

  it("lists a project's records as a table and as JSON, narrowed by action and method", async () => {
    const table = await runCli(['audit', 'list', '--project', project.name, '--method', 'SetRoleBinding']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const [header, ...rows] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^SEQ\s+TIME\s+ACTOR\s+ACTION\s+METHOD\s+RESOURCE\s+OUTCOME$/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/create\s+governance\.v1\.IdentityService\/SetRoleBinding\s+.*succeeded$/);

    const records = jsonOf<AuditRecordJson[]>(await runCli(['audit', 'list', '--project', project.projectId, '--action', 'create', '-o', 'json']));
    expect(records.map((record) => record.event?.method)).toEqual(['trellis.governance.v1.IdentityService/CreateProject', 'trellis.governance.v1.IdentityService/SetRoleBinding']);
    expect(records.every((record) => record.event?.projectId === project.projectId)).toBe(true);
    expect(jsonOf<AuditRecordJson[]>(await runCli(['audit', 'list', '--project', project.name, '--action', 'delete', '-o', 'json']))).toEqual([]);
  });

  it('says when --limit cut the list short, and refuses a time it cannot read with exit code 2', async () => {
    const limited = await runCli(['audit', 'list', '--project', project.name, '--limit', '1', '-o', 'json']);
    expect(jsonOf<AuditRecordJson[]>(limited)).toHaveLength(1);
    expect(limited.stderr).toMatch(/raise --limit/);

    const badTime = await runCli(['audit', 'list', '--since', 'yesterday']);
    expect(badTime.code).toBe(EXIT.usage);
    expect(badTime.stderr).toMatch(/--since "yesterday" is not a time: give an RFC 3339 time/);
    const future = await runCli(['audit', 'list', '--project', project.name, '--since', '2999-01-01', '-o', 'json']);
    expect(jsonOf(future)).toEqual([]);
  });

  it('verifies the chain and says it is intact, with how much it checked', async () => {
    const result = await runCli(['audit', 'verify']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^OK: the audit chain is intact, \d+ records and \d+ checkpoints checked/);
  });

  it('exports JSON Lines to a file (mode 0600, no partial file left) and to standard output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-audit-export-'));
    const out = join(dir, 'audit.jsonl');
    const toFile = await runCli(['audit', 'export', '--project', project.name, '--out', out]);
    expect(toFile).toMatchObject({ code: 0, stdout: '' });
    expect(toFile.stderr).toMatch(/^Exported \d+ lines to /);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(existsSync(`${out}.partial`)).toBe(false);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as AuditRecordJson & { checkpoint?: unknown });
    const records = lines.filter((line) => line.checkpoint === undefined);
    expect(records.map((record) => record.event?.method)).toEqual(['trellis.governance.v1.IdentityService/CreateProject', 'trellis.governance.v1.IdentityService/SetRoleBinding']);

    const toStdout = await runCli(['audit', 'export', '--project', project.name]);
    expect(toStdout).toMatchObject({ code: 0, stderr: '' });
    expect(toStdout.stdout).toBe(readFileSync(out, 'utf8'));
  });

  it('refuses an editor, who may not read the audit log, with exit code 4, and verify to a non-org-admin', async () => {
    const list = await runCli(['audit', 'list', '--project', project.name], { apiKey: editor.apiKey });
    expect(list.code).toBe(EXIT.permissionDenied);
    expect(list.stderr).toMatch(/Your role does not allow this/);
    const verify = await runCli(['audit', 'verify'], { apiKey: editor.apiKey });
    expect(verify.code).toBe(EXIT.permissionDenied);
  });

  it('words a broken chain with where it breaks and what is wrong there', () => {
    const text = verdictText({ intact: false, recordsChecked: '40', firstBadSequence: '17', problem: 'altered', checkpointsChecked: '2', firstBadCheckpoint: '0', detail: 'record 17 does not match its hash' });
    expect(text).toBe('BROKEN: the audit chain breaks at record 17, altered: record 17 does not match its hash; 40 records and 2 checkpoints checked.');
  });
});
