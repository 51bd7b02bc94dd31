import { Module } from '@nestjs/common';
import { AccessRevocationPublisher } from './access-revocation.publisher';
import { IdentityGrpc } from './identity.grpc';
import { IdentityRepository } from './identity.repository';
import { IdentityService } from './identity.service';

/** Projects, principals and role bindings; exports what the tokens feature builds on. */
@Module({
  controllers: [IdentityGrpc],
  providers: [IdentityService, IdentityRepository, AccessRevocationPublisher],
  exports: [IdentityService, IdentityRepository, AccessRevocationPublisher],
})
export class IdentityModule {}
