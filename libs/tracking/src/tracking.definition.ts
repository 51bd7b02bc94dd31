import { defineService } from '@trellis/platform';
import { ArtifactServiceDesc, ExperimentServiceDesc, MetricServiceDesc, RunServiceDesc } from '@trellis/proto';
import { ExperimentEntity, ExperimentTagEntity } from './experiments/experiment.entity';
import { MetricPointEntity, MetricRollupEntity, MetricSeriesEntity } from './metrics/metric.entity';
import { CreateTrackingTables1767500000000 } from './migrations/1767500000000-create-tracking-tables';
import { CreateMetricTables1767500001000 } from './migrations/1767500001000-create-metric-tables';
import { MetricRollupTimestamps1767700000000 } from './migrations/1767700000000-metric-rollup-timestamps';
import { AddRunArtifactKms1767800000000 } from './migrations/1767800000000-add-run-artifact-kms';
import { MoveArtifactStoreChoices1767860000000 } from './migrations/1767860000000-move-artifact-store-choices';
import { RunEntity, RunInputEntity, RunParamEntity, RunTagEntity } from './runs/run.entity';
import { TrackingModule } from './tracking.module';

/** Tracking: experiments, runs, params, metrics, tags, dataset inputs and artifacts. */
export const trackingService = defineService({
  name: 'tracking',
  description: 'Experiments, runs, params, metrics, tags, dataset inputs and artifacts',
  defaultPort: 50053,
  module: TrackingModule,
  grpcServices: [ExperimentServiceDesc, RunServiceDesc, MetricServiceDesc, ArtifactServiceDesc],
  // Asks governance whether a project encrypts at rest when one of its runs is created.
  calls: ['governance'],
  plugins: {
    storage: { purpose: "keeps runs' artifacts, in the instance each project chose" },
    kms: { purpose: 'encrypts the artifacts of projects that ask for encryption at rest', optional: true },
  },
  entities: [ExperimentEntity, ExperimentTagEntity, RunEntity, RunParamEntity, RunTagEntity, RunInputEntity, MetricSeriesEntity, MetricPointEntity, MetricRollupEntity],
  migrations: [CreateTrackingTables1767500000000, CreateMetricTables1767500001000, MetricRollupTimestamps1767700000000, AddRunArtifactKms1767800000000, MoveArtifactStoreChoices1767860000000],
});
