import { defineService } from '@trellis/platform';
import { ComputeServiceDesc } from '@trellis/proto';
import { QueueEntity } from './queues/queue.entity';
import { computeConfig } from './compute.config';
import { ComputeModule } from './compute.module';
import { CreateComputeTables1796444153451 } from './migrations/1796444153451-create-compute-tables';

/** The compute service: the queues of each project, created, read, listed, changed and deleted over gRPC. */
export const computeService = defineService({
  name: 'compute',
  description: 'Keeps the queues of each project',
  defaultPort: 50056,
  config: computeConfig,
  module: ComputeModule,
  grpcServices: [ComputeServiceDesc],
  entities: [QueueEntity],
  migrations: [CreateComputeTables1796444153451],
});
