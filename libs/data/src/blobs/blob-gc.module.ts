import { Module } from '@nestjs/common';
import { VersionsModule } from '../versions/versions.module';
import { BlobGcGrpc } from './blob-gc.grpc';
import { BlobGcRepository } from './blob-gc.repository';
import { BlobGcService } from './blob-gc.service';
import { BlobGcWorker } from './blob-gc.worker';
import { BlobsModule } from './blobs.module';

/** Garbage collection of blobs no live version names: the CollectGarbage handler and the hourly worker; apart from BlobsModule, which the versions feature imports. */
@Module({ imports: [BlobsModule, VersionsModule], controllers: [BlobGcGrpc], providers: [BlobGcService, BlobGcRepository, BlobGcWorker], exports: [BlobGcService, BlobGcWorker] })
export class BlobGcModule {}
