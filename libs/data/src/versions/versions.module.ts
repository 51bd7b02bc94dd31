import { Module } from '@nestjs/common';
import { BlobsModule } from '../blobs/blobs.module';
import { VersionGrpc } from './version.grpc';
import { VersionRepository } from './version.repository';
import { VersionService } from './version.service';
import { VersionPushGrpc } from './version-push.grpc';
import { VersionPushService } from './version-push.service';

/** Dataset versions: commits (also from a tar archive), references, listings, diffs and tags, with the rules and repository behind them (exported: lineage resolves references with VersionService.lookUp, garbage collection reads VersionRepository.liveDigests). */
@Module({ imports: [BlobsModule], controllers: [VersionGrpc, VersionPushGrpc], providers: [VersionService, VersionRepository, VersionPushService], exports: [VersionService, VersionRepository] })
export class VersionsModule {}
