import { Module } from '@nestjs/common';
import { AccessRevocations } from './access-revocations';
import { IdentityGrpc } from './identity.grpc';
import { IdentityService } from './identity.service';

/** Projects, principals and role bindings. */
@Module({ controllers: [IdentityGrpc], providers: [IdentityService, AccessRevocations], exports: [IdentityService, AccessRevocations] })
export class IdentityModule {}
