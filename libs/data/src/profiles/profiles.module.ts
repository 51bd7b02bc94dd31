import { Module } from '@nestjs/common';
import { BlobsModule } from '../blobs/blobs.module';
import { VersionsModule } from '../versions/versions.module';
import { ProfileGrpc } from './profile.grpc';
import { ProfileRepository } from './profile.repository';
import { ProfileService } from './profile.service';
import { ProfileWorker } from './profile.worker';
import { VersionCommittedHandler } from './version-committed.handler';

/**
 * Profiles of tabular files: queued when a version is committed, computed by the worker, served by
 * ProfileService, which lists a version's files through VersionService (its access rules and errors).
 */
@Module({
  imports: [BlobsModule, VersionsModule],
  controllers: [ProfileGrpc],
  providers: [ProfileService, ProfileRepository, ProfileWorker, VersionCommittedHandler],
})
export class ProfilesModule {}
