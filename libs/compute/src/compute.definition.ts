import { defineService } from '@trellis/platform';
import { ClusterServiceDesc, JobServiceDesc, QueueServiceDesc } from '@trellis/proto';
import { computeConfig } from './compute.config';
import { ComputeModule } from './compute.module';
import { AttemptEntity, JobEntity } from './jobs/job.entity';
import { CreateComputeTables1796480000000 } from './migrations/1796480000000-create-compute-tables';
import { AddAttemptCredentials1796480100000 } from './migrations/1796480100000-add-attempt-credentials';
import { AddQueueOrgs1796480200000 } from './migrations/1796480200000-add-queue-orgs';
import { AddQueueClusters1796480300000 } from './migrations/1796480300000-add-queue-clusters';
import { GrantEntity, QueueEntity } from './queues/queue.entity';
import { AdmissionWorker } from './scheduling/admission.worker';
import { SupervisorWorker } from './scheduling/supervisor.worker';

/** The compute service: clusters, queues with per-project grants, and jobs admitted to them and run on the clusters' backends. */
export const computeService = defineService({
  name: 'compute',
  description: 'Queues jobs under per-project quotas and runs them on compute clusters',
  defaultPort: 50056,
  config: computeConfig,
  module: ComputeModule,
  grpcServices: [ClusterServiceDesc, QueueServiceDesc, JobServiceDesc],
  workers: [AdmissionWorker, SupervisorWorker],
  calls: ['tracking', 'governance', 'data'],
  identity: { purpose: "acts for each job's submitter: has governance make the job's credential (MLFLOW_TRACKING_TOKEN) and revoke it when the attempt ends" },
  plugins: {
    compute: {
      purpose: 'runs jobs: each compute instance is a cluster that queues are made on',
      optional: true,
      // Jobs as local processes, when compute-local is in the program: `npm start` runs jobs out of the box.
      defaults: { local: { plugin: 'compute-local', config: async () => ({}) } },
    },
  },
  entities: [QueueEntity, GrantEntity, JobEntity, AttemptEntity],
  migrations: [CreateComputeTables1796480000000, AddAttemptCredentials1796480100000, AddQueueOrgs1796480200000, AddQueueClusters1796480300000],
});
