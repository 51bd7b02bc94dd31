import { Module } from '@nestjs/common';
import { defineService, PlatformRuntime } from '@trellis/platform';
import { AuditServiceDesc, IdentityServiceDesc } from '@trellis/proto';
import { governanceService } from '../src/governance.definition';
import { IdentityModule } from '../src/identity/identity.module';
import { GovernanceHarness } from './governance-harness';

@Module({ imports: [IdentityModule] })
class IdentityOnlyModule {}

/** Declares AuditService without its handlers, so the kit refuses to start it. */
const unstartable = defineService({
  name: 'governance',
  config: governanceService.config,
  defaultPort: 0,
  module: IdentityOnlyModule,
  grpcServices: [IdentityServiceDesc, AuditServiceDesc],
  entities: governanceService.entities,
  migrations: governanceService.migrations,
});

describe('GovernanceHarness', () => {
  afterEach(() => jest.restoreAllMocks());

  it('closes the ops server it opened when the service refuses to start, so the test process can exit', async () => {
    const listened = jest.spyOn(PlatformRuntime.prototype, 'listenOps');

    await expect(GovernanceHarness.start(unstartable)).rejects.toThrow('refusing to start');

    const opsAddress = await (listened.mock.results[0].value as Promise<string>);
    await expect(fetch(`${opsAddress}/healthz`)).rejects.toThrow('fetch failed');
  });
});
