import { Module } from '@nestjs/common';
import { VersionsModule } from '../versions/versions.module';
import { BlobGcService } from './blob-gc.service';
import { BlobGcWorker } from './blob-gc.worker';
import { BlobsModule } from './blobs.module';

/** Garbage collection of blobs no live version names, and its hourly worker; apart from BlobsModule, which the versions feature imports. */
@Module({ imports: [BlobsModule, VersionsModule], providers: [BlobGcService, BlobGcWorker], exports: [BlobGcService, BlobGcWorker] })
export class BlobGcModule {}
