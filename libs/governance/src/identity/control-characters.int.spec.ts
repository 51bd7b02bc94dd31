import { status, type ServiceError } from '@grpc/grpc-js';
import { IdentityServiceDesc, PrincipalKind, TokenServiceDesc } from '@trellis/proto';
import type { GrpcClient } from '@trellis/platform';
import { serviceDatabases } from '@trellis/testing';
import { GovernanceHarness } from '../../test/governance-harness';
import { governanceService } from '../governance.definition';

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as ServiceError | undefined;

describe.each(serviceDatabases('governance'))('governance on %s refuses control characters in names and NUL in descriptions, naming the field', (_setup, setup) => {
  let cleanup: () => Promise<void>;
  let gov: GovernanceHarness;
  let identity: GrpcClient<(typeof IdentityServiceDesc)['method']>;
  let tokens: GrpcClient<(typeof TokenServiceDesc)['method']>;
  let projectId: string;

  beforeAll(async () => {
    const { env, cleanup: drop } = await setup();
    cleanup = drop;
    gov = await GovernanceHarness.start(governanceService, env);
    const token = await gov.exchange(gov.adminKey);
    identity = gov.identity(token);
    tokens = gov.tokens(token);
    projectId = (await identity.createProject({ name: 'names' })).project!.id;
  });

  afterAll(async () => {
    identity?.close();
    tokens?.close();
    await gov?.dispose();
    await cleanup?.();
  });

  it.each<[string, () => Promise<unknown>, string]>([
    ['a project name with a NUL', () => identity.createProject({ name: 'a\0b' }), 'name'],
    ['a project description with a NUL', () => identity.createProject({ name: 'described', description: 'a\0' }), 'description'],
    ['a new project description with a NUL', () => identity.updateProject({ project: { id: projectId, description: '\0' }, updateMask: { paths: ['description'] } }), 'description'],
    ['a principal name with a NUL', () => identity.createPrincipal({ kind: PrincipalKind.USER, name: 'ann\0' }), 'name'],
    ['a display name with a line break', () => identity.createPrincipal({ kind: PrincipalKind.USER, name: 'ann', displayName: 'Ann\nAdmin' }), 'display_name'],
    ['an API key name with a NUL', () => tokens.createApiKey({ name: 'laptop\0' }), 'name'],
    ['an API key name with an escape', () => tokens.createApiKey({ name: 'laptop\u001b[2J' }), 'name'],
  ])('refuses %s with INVALID_ARGUMENT naming the field', async (_what, call, field) => {
    const error = await failure(call());
    expect([error?.code, error?.details]).toEqual([status.INVALID_ARGUMENT, expect.stringMatching(new RegExp(`^${field}: `))]);
  });

  it('stores line breaks and tabs in a project description as given', async () => {
    const description = 'first line\nsecond\tcolumn';
    await identity.updateProject({ project: { id: projectId, description }, updateMask: { paths: ['description'] } });
    expect((await identity.getProject({ projectId })).project?.description).toBe(description);
  });
});
