import { Module } from '@nestjs/common';
import { VersionsModule } from '../versions/versions.module';
import { BlobsModule } from './blobs.module';
import { VersionDownloadGrpc } from './version-download.grpc';
import { VersionDownloadService } from './version-download.service';

/** Downloads of dataset versions' files, one file or a tar stream; apart from BlobsModule, which the versions feature imports. */
@Module({ imports: [BlobsModule, VersionsModule], controllers: [VersionDownloadGrpc], providers: [VersionDownloadService] })
export class VersionDownloadModule {}
