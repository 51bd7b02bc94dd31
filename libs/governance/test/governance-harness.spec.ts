import { Module } from '@nestjs/common';
import { defineService } from '@trellis/platform';
import { AuditService, IdentityService } from '@trellis/proto';
import { eventually } from '@trellis/testing';
import { IDENTITY_ENTITIES, IDENTITY_MIGRATIONS } from '../src/identity';
import { IdentityModule } from '../src/identity/identity.module';
import { GovernanceHarness } from './governance-harness';

@Module({ imports: [IdentityModule] })
class IdentityOnlyModule {}

/** Declares AuditService without its handlers, so the kit refuses to start it. */
const unstartable = defineService({
  name: 'governance',
  defaultPort: 0,
  module: IdentityOnlyModule,
  grpcServices: [IdentityService, AuditService],
  entities: IDENTITY_ENTITIES,
  migrations: IDENTITY_MIGRATIONS,
});

describe('GovernanceHarness', () => {
  it('closes the servers it opened when the service refuses to start, so the test process can exit', async () => {
    const servers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'TCPServerWrap').length;
    const before = servers();

    await expect(GovernanceHarness.start(unstartable)).rejects.toThrow('refusing to start');

    // A closed server's handle is released at the end of the event-loop turn it closed in.
    await eventually(() => expect(servers()).toBe(before));
  });
});
