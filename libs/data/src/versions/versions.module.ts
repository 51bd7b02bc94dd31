import { Module } from '@nestjs/common';
import { BlobsModule } from '../blobs/blobs.module';
import { VersionGrpc } from './version.grpc';
import { VersionRepository } from './version.repository';
import { VersionService } from './version.service';

/** Dataset versions: commits, references, listings, diffs and tags, with the repository behind them (exported for garbage collection's live-digest query). */
@Module({ imports: [BlobsModule], controllers: [VersionGrpc], providers: [VersionService, VersionRepository], exports: [VersionRepository] })
export class VersionsModule {}
