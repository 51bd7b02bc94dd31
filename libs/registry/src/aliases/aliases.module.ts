import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { VersionsModule } from '../versions/versions.module';
import { ApprovalCheck } from './alias-approval';
import { AliasGrpc } from './alias.grpc';
import { AliasRepository } from './alias.repository';
import { AliasService } from './alias.service';

/** Aliases, their history and protected aliases behind governance approvals. */
@Module({
  imports: [ModelsModule, VersionsModule],
  controllers: [AliasGrpc],
  providers: [AliasRepository, AliasService, ApprovalCheck],
})
export class AliasesModule {}
