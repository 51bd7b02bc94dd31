import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { DatasetsModule } from '../datasets/datasets.module';
import { JobsModule } from '../jobs/jobs.module';
import { QueuesModule } from '../queues/queues.module';
import { AdmissionWorker } from './admission.worker';
import { AttemptLedger } from './attempt-ledger';
import { SignalsModule } from './signals.module';
import { SupervisorWorker } from './supervisor.worker';

/** The admission loop and the supervisor: the service's two workers. */
@Module({ imports: [ClustersModule, QueuesModule, JobsModule, SignalsModule, DatasetsModule], providers: [AdmissionWorker, SupervisorWorker, AttemptLedger] })
export class SchedulingModule {}
