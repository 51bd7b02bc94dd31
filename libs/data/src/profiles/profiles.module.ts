import { Module } from '@nestjs/common';
import { BlobsModule } from '../blobs/blobs.module';
import { VersionService } from '../versions/version.service';
import { VersionsModule } from '../versions/versions.module';
import { ProfileGrpc } from './profile.grpc';
import { ProfileRepository } from './profile.repository';
import { ProfileService } from './profile.service';
import { ProfileWorker } from './profile.worker';
import { VersionCommittedHandler } from './version-committed.handler';

/**
 * Profiles of tabular files: queued when a version is committed, computed by the worker, served by
 * ProfileService. VersionService is stateless; its listing (with its access rules) is used as is.
 */
@Module({
  imports: [BlobsModule, VersionsModule],
  controllers: [ProfileGrpc],
  providers: [ProfileService, ProfileRepository, ProfileWorker, VersionCommittedHandler, VersionService],
  exports: [ProfileWorker],
})
export class ProfilesModule {}
