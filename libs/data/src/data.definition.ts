import { defineService } from '@trellis/platform';
import { DataServiceDesc } from '@trellis/proto';
import { BlobEntity } from './blobs/blob.entity';
import { DatasetEntity } from './datasets/dataset.entity';
import { dataConfig } from './data.config';
import { DataModule } from './data.module';
import { CreateDataTables1796437705052 } from './migrations/1796437705052-create-data-tables';
import { CreateBlobsTable1796460000000 } from './migrations/1796460000000-create-blobs-table';

/** The data service: the datasets of each project, created, read, listed, changed and deleted over gRPC. */
export const dataService = defineService({
  name: 'data',
  description: 'Keeps the datasets of each project',
  defaultPort: 50055,
  config: dataConfig,
  module: DataModule,
  grpcServices: [DataServiceDesc],
  plugins: {
    storage: { purpose: 'stores blobs, each once per instance under its sha256' },
  },
  entities: [DatasetEntity, BlobEntity],
  migrations: [CreateDataTables1796437705052, CreateBlobsTable1796460000000],
});
