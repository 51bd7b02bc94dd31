import { Module } from '@nestjs/common';
import { BlobsModule } from '../blobs/blobs.module';
import { VersionGrpc } from './version.grpc';
import { VersionRepository } from './version.repository';
import { VersionService } from './version.service';

/** Dataset versions: commits, references, listings, diffs and tags, with the rules and repository behind them (exported: lineage resolves references with VersionService.lookUp, garbage collection reads VersionRepository.liveDigests). */
@Module({ imports: [BlobsModule], controllers: [VersionGrpc], providers: [VersionService, VersionRepository], exports: [VersionService, VersionRepository] })
export class VersionsModule {}
