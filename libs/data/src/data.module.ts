import { Module } from '@nestjs/common';
import { BlobGcModule } from './blobs/blob-gc.module';
import { BlobsModule } from './blobs/blobs.module';
import { VersionDownloadModule } from './blobs/version-download.module';
import { DatasetsModule } from './datasets/datasets.module';
import { LineageModule } from './lineage/lineage.module';
import { ProfilesModule } from './profiles/profiles.module';
import { VersionsModule } from './versions/versions.module';

/** Wires the data service's feature modules; nothing else. */
@Module({ imports: [DatasetsModule, BlobsModule, LineageModule, VersionsModule, VersionDownloadModule, ProfilesModule, BlobGcModule] })
export class DataModule {}
