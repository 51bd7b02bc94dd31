import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { VersionFilesModule } from '../version-files/version-files.module';
import { VersionWaiters } from './version-waiters';
import { VersionGrpc } from './version.grpc';
import { VersionRepository } from './version.repository';
import { VersionService } from './version.service';

/** Model versions: their handlers, lineage and files; aliases resolve through VersionService. */
@Module({
  imports: [ModelsModule, VersionFilesModule],
  controllers: [VersionGrpc],
  providers: [VersionRepository, VersionService, VersionWaiters],
  exports: [VersionService],
})
export class VersionsModule {}
