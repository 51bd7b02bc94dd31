import { Module } from '@nestjs/common';
import { IdentityGrpc } from './identity.grpc';
import { IdentityService } from './identity.service';

/** Projects, principals and role bindings. */
@Module({ controllers: [IdentityGrpc], providers: [IdentityService], exports: [IdentityService] })
export class IdentityModule {}
