import 'reflect-metadata';
import { status } from '@grpc/grpc-js';
import { createGrpcClient, runProcess, type RunningProcess } from '@trellis/platform';
import { AuditServiceDesc, ExperimentServiceDesc, IdentityServiceDesc, Outcome, PrincipalKind, Role, TokenServiceDesc } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_PLUGINS, SERVICES } from './services';

const ADMIN_KEY = `trellis_00000000000000ad_${'A'.repeat(43)}`;

describe('the audit log of the standalone program', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-audit-'));
  const saved = { ...process.env };
  let running: RunningProcess;
  let admin: string;
  const address = (name: string) => running.services.find((service) => service.name === name)!.grpcAddress;
  const tokenFor = async (apiKey: string) => (await createGrpcClient(TokenServiceDesc, address('governance')).exchangeApiKey({ apiKey })).token;

  beforeAll(async () => {
    Object.assign(process.env, {
      TRELLIS_DATA_DIR: join(dir, 'data'),
      TRELLIS_OPS_PORT: '0',
      TRELLIS_SERVING_HTTP_PORT: '0',
      TRELLIS_LOG_LEVEL: 'silent',
      TRELLIS_GOVERNANCE_ADMIN_KEY: ADMIN_KEY,
      // Checkpoints on demand only: a timer's would be numbered at a moment the spec cannot know.
      TRELLIS_GOVERNANCE_CHECKPOINT_EVERY_SECONDS: '86400',
    });
    for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
    running = await runProcess({ mode: 'standalone', services: SERVICES, plugins: BUILT_IN_PLUGINS, print: () => undefined });
    admin = await tokenFor(ADMIN_KEY);
  });

  afterAll(async () => {
    await running?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a viewer probing another project’s experiment, API key and members as denied', async () => {
    const identity = createGrpcClient(IdentityServiceDesc, address('governance'), { token: admin });
    const alpha = (await identity.createProject({ name: 'alpha' })).project!;
    const beta = (await identity.createProject({ name: 'beta' })).project!;
    const viewer = (await identity.createPrincipal({ kind: PrincipalKind.SERVICE_ACCOUNT, name: 'prober', displayName: 'prober' })).principal!;
    await identity.setRoleBinding({ binding: { projectId: alpha.id, principalId: viewer.id, role: Role.VIEWER } });
    const viewerKey = (await createGrpcClient(TokenServiceDesc, address('governance'), { token: admin }).createApiKey({ principalId: viewer.id, name: 'probe' })).secret;
    const adminKey = (await createGrpcClient(TokenServiceDesc, address('governance'), { token: admin }).createApiKey({ name: 'beta work' })).apiKey!;
    // A token carries the bindings its exchange found, so beta's owner exchanges again.
    const betaOwner = { token: await tokenFor(ADMIN_KEY) };
    const experiment = (await createGrpcClient(ExperimentServiceDesc, address('tracking'), betaOwner).createExperiment({ projectId: beta.id, name: 'secret' })).experiment!;
    const asViewer = { token: await tokenFor(viewerKey) };

    const probes = [
      createGrpcClient(ExperimentServiceDesc, address('tracking'), asViewer).getExperiment({ experimentId: experiment.id }),
      createGrpcClient(TokenServiceDesc, address('governance'), asViewer).revokeApiKey({ apiKeyId: adminKey.id }),
      createGrpcClient(IdentityServiceDesc, address('governance'), asViewer).listRoleBindings({ projectId: beta.id }),
    ];
    for (const probe of probes) await expect(probe).rejects.toMatchObject({ code: status.NOT_FOUND });

    const audit = createGrpcClient(AuditServiceDesc, address('governance'), { token: admin });
    const denied = await eventually(async () => {
      const { records } = await audit.listAuditRecords({ filter: { actor: viewer.id }, pageSize: 1000 });
      const found = records.map((record) => record.event!).filter((event) => event.outcome === Outcome.DENIED);
      expect(found).toHaveLength(3);
      return found;
    });
    // Each service's records reach the chain through its own outbox, so their order is not the calls'.
    expect(denied.map((event) => [event.method, event.reason]).sort()).toEqual([
      ['trellis.tracking.v1.ExperimentService/GetExperiment', `NOT_FOUND: No Experiment with id=${experiment.id} exists`],
      ['trellis.governance.v1.TokenService/RevokeApiKey', `NOT_FOUND: API key ${adminKey.id} not found`],
      ['trellis.governance.v1.IdentityService/ListRoleBindings', `NOT_FOUND: project ${beta.id} not found`],
    ].sort());
  });

  it('signs checkpoints with a key file it writes under the data directory, readable by its owner only, and Verify checks them', async () => {
    const audit = createGrpcClient(AuditServiceDesc, address('governance'), { token: admin });
    const { checkpoint } = await audit.createAuditCheckpoint({});
    expect(checkpoint).toMatchObject({ number: 1n, keyId: 'trellis-audit-checkpoints' });
    expect(statSync(join(dir, 'data', 'keys', 'audit-checkpoint.key')).mode & 0o777).toBe(0o600);

    const verdict = await audit.verifyAuditChain({});
    expect(verdict).toMatchObject({ intact: true, checkpointsChecked: 1n, problem: '' });
    expect(verdict.recordsNotCovered).toBe(verdict.recordsChecked - checkpoint!.sequence);
  });
});
