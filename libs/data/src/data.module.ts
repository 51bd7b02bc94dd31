import { Module } from '@nestjs/common';
import { BlobsModule } from './blobs/blobs.module';
import { DatasetsModule } from './datasets/datasets.module';

/** Wires the data service's feature modules; nothing else. */
@Module({ imports: [DatasetsModule, BlobsModule] })
export class DataModule {}
