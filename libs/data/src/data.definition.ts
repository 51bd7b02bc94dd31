import { defineService } from '@trellis/platform';
import { DataServiceDesc } from '@trellis/proto';
import { DatasetEntity } from './datasets/dataset.entity';
import { dataConfig } from './data.config';
import { DataModule } from './data.module';
import { CreateDataTables1796437705052 } from './migrations/1796437705052-create-data-tables';

/** The data service: the datasets of each project, created, read, listed, changed and deleted over gRPC. */
export const dataService = defineService({
  name: 'data',
  description: 'Keeps the datasets of each project',
  defaultPort: 50055,
  config: dataConfig,
  module: DataModule,
  grpcServices: [DataServiceDesc],
  entities: [DatasetEntity],
  migrations: [CreateDataTables1796437705052],
});
