import 'reflect-metadata';
import { ConfigError, createGrpcClient, loadConfig, runProcess, StartupError, type EdgeDefinition, type RunningProcess } from '@trellis/platform';
import { AuditServiceDesc, IdentityServiceDesc, TokenServiceDesc } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { governanceService } from '../governance.definition';
import { issueAdminKey } from './admin-key.command';

const KEY = /trellis_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/g;

describe("the admin's API key", () => {
  const saved = { ...process.env };
  let dir: string;
  let running: RunningProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-admin-key-'));
    Object.assign(process.env, { TRELLIS_DATA_DIR: dir, TRELLIS_OPS_PORT: '0', TRELLIS_GOVERNANCE_PORT: '0', TRELLIS_LOG_LEVEL: 'silent' });
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    process.env = { ...saved };
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (edges: EdgeDefinition[] = []) => {
    const printed: string[] = [];
    running = await runProcess({ mode: 'standalone', services: [governanceService], edges, print: (line) => printed.push(line) });
    return printed;
  };

  /** A token for `apiKey` from the running governance, and the projects it may list. */
  const projectsWith = async (apiKey: string) => {
    const address = running!.services[0].grpcAddress;
    const tokens = createGrpcClient(TokenServiceDesc, address);
    const { token } = await tokens.exchangeApiKey({ apiKey });
    const identity = createGrpcClient(IdentityServiceDesc, address, { token });
    try {
      return { token, projects: (await identity.listProjects({})).projects.map((project) => project.name) };
    } finally {
      tokens.close();
      identity.close();
    }
  };

  it('is not shown by a first start that fails before everything listens, and the next start shows it after the summary', async () => {
    const broken: EdgeDefinition = { name: 'broken', start: () => Promise.reject(new StartupError('the broken edge cannot listen')) };
    const printed: string[] = [];
    await expect(runProcess({ mode: 'standalone', services: [governanceService], edges: [broken], print: (line) => printed.push(line) })).rejects.toThrow(
      'the broken edge cannot listen',
    );
    expect(printed.join('\n')).not.toMatch(KEY);

    const next = await start();
    const summaryEnd = next.findIndex((line) => line.startsWith(`  ${'data'.padEnd(12)}`));
    const notice = next.slice(summaryEnd + 1).join('\n');
    expect(notice).toContain("Trellis: created the admin user. Its API key is shown this once; store it now:");
    const [apiKey] = notice.match(KEY)!;
    expect((await projectsWith(apiKey)).projects).toEqual(['default']);
  });

  it('is shown once: a restart shows none', async () => {
    expect((await start()).join('\n')).toMatch(KEY);
    await running!.stop();
    running = undefined;
    expect((await start()).join('\n')).not.toMatch(KEY);
  });

  it('can be issued again by whoever holds the data directory, while governance runs; the new key works and the issue is audited', async () => {
    const [firstKey] = (await start()).join('\n').match(KEY)!;
    const issued = await issueAdminKey(loadConfig({ services: ['governance'] }));
    expect(issued.secret).toMatch(KEY);
    expect(issued.secret).not.toBe(firstKey);

    const { token, projects } = await projectsWith(issued.secret);
    expect(projects).toEqual(['default']);
    expect((await projectsWith(firstKey)).projects).toEqual(['default']);

    const audit = createGrpcClient(AuditServiceDesc, running!.services[0].grpcAddress, { token });
    const record = await eventually(async () => {
      const { records } = await audit.listAuditRecords({ pageSize: 1000 });
      const found = records.find((candidate) => candidate.event?.resource === `apiKeys/${issued.apiKeyId}`);
      expect(found).toBeDefined();
      return found!;
    });
    audit.close();
    expect(record.event).toMatchObject({ service: 'governance', action: 'create', actor: expect.stringMatching(/^operator:.+@.+/) });
  });

  it('is not issued from a directory that holds no governance database, and none is created there', async () => {
    const elsewhere = join(dir, 'elsewhere');
    const error = await issueAdminKey(loadConfig({ services: ['governance'], env: { TRELLIS_DATA_DIR: elsewhere } })).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`no governance database at ${join(elsewhere, 'governance.sqlite')}`);
    expect(existsSync(elsewhere)).toBe(false);
  });
});
