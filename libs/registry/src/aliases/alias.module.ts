import { Module } from '@nestjs/common';
import { ModelModule } from '../models/model.module';
import { VersionModule } from '../versions/version.module';
import { ApprovalCheck } from './alias-approval';
import { AliasGrpc } from './alias.grpc';
import { AliasRepository } from './alias.repository';
import { AliasService } from './alias.service';

/** Aliases, their history and protected aliases behind governance approvals. */
@Module({
  imports: [ModelModule, VersionModule],
  controllers: [AliasGrpc],
  providers: [AliasRepository, AliasService, ApprovalCheck],
})
export class AliasModule {}
