import { Module } from '@nestjs/common';
import { ClustersModule } from './clusters/clusters.module';
import { JobsModule } from './jobs/jobs.module';
import { QueuesModule } from './queues/queues.module';
import { SchedulingModule } from './scheduling/scheduling.module';

/** Wires the compute service's feature modules; nothing else. */
@Module({ imports: [ClustersModule, QueuesModule, JobsModule, SchedulingModule] })
export class ComputeModule {}
