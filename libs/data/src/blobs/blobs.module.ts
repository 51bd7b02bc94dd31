import { Module } from '@nestjs/common';
import { BlobRepository } from './blob.repository';
import { BlobStore } from './blob-store';

/** Content-addressed blobs: which each storage instance holds, and the instances themselves. */
@Module({ providers: [BlobStore, BlobRepository], exports: [BlobStore, BlobRepository] })
export class BlobsModule {}
