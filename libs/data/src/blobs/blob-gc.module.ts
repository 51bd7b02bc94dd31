import { Module } from '@nestjs/common';
import { VersionsModule } from '../versions/versions.module';
import { BlobGcService } from './blob-gc.service';
import { BlobsModule } from './blobs.module';

/** Garbage collection of blobs no live version names; apart from BlobsModule, which the versions feature imports. */
@Module({ imports: [BlobsModule, VersionsModule], providers: [BlobGcService], exports: [BlobGcService] })
export class BlobGcModule {}
