import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { DatasetMaterializer } from './dataset-materializer';

/** Jobs' dataset inputs as local folders: the cache of versions and the attempts' copies. */
@Module({ imports: [JobsModule], providers: [DatasetMaterializer], exports: [DatasetMaterializer] })
export class DatasetsModule {}
