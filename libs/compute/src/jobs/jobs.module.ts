import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { QueuesModule } from '../queues/queues.module';
import { SignalsModule } from '../scheduling/signals.module';
import { DatasetInputs } from './dataset-inputs';
import { JobGrpc } from './job.grpc';
import { JobRuns } from './job-runs';
import { JobRepository } from './job.repository';
import { JobService } from './job.service';
import { PriorityClasses } from './priority-classes';
import { SubmissionWriter } from './submission-writer';

/** Jobs: the JobService handlers, the rules and the repository the scheduling workers share. */
@Module({
  imports: [ClustersModule, QueuesModule, SignalsModule],
  controllers: [JobGrpc],
  providers: [JobService, JobRepository, PriorityClasses, DatasetInputs, JobRuns, SubmissionWriter],
  exports: [JobRepository, JobRuns],
})
export class JobsModule {}
