import { Module } from '@nestjs/common';
import { ModelModule } from '../models/model.module';
import { VersionFileModule } from '../version-files/version-file.module';
import { VersionWaiters } from './version-waiters';
import { VersionGrpc } from './version.grpc';
import { VersionRepository } from './version.repository';
import { VersionService } from './version.service';

/** Model versions: their handlers, lineage and files; aliases resolve through VersionService. */
@Module({
  imports: [ModelModule, VersionFileModule],
  controllers: [VersionGrpc],
  providers: [VersionRepository, VersionService, VersionWaiters],
  exports: [VersionService],
})
export class VersionModule {}
