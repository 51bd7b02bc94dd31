import { Module } from '@nestjs/common';
import { BlobIntake } from './blob-intake';
import { BlobUploadRepository } from './blob-upload.repository';
import { BlobGrpc } from './blob.grpc';
import { BlobRepository } from './blob.repository';
import { BlobService } from './blob.service';
import { BlobStore } from './blob-store';

/** Content-addressed blobs: the BlobService handlers, uploads in one stream or in parts, downloads, and which each storage instance holds. */
@Module({ controllers: [BlobGrpc], providers: [BlobStore, BlobRepository, BlobService, BlobUploadRepository, BlobIntake], exports: [BlobStore, BlobRepository, BlobService, BlobUploadRepository, BlobIntake] })
export class BlobsModule {}
