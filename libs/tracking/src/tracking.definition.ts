import { defineService } from '@trellis/platform';
import { ArtifactServiceDesc, ExperimentServiceDesc, MetricServiceDesc, RunServiceDesc } from '@trellis/proto';
import { ExperimentEntity, ExperimentTagEntity } from './experiments/experiment.entity';
import { METRIC_ENTITIES, METRIC_MIGRATIONS } from './metrics';
import { CreateTrackingTables1767500000000 } from './migrations/1767500000000-create-tracking-tables';
import { ProjectSettingsEntity, RunEntity, RunInputEntity, RunParamEntity, RunTagEntity } from './runs/run.entity';
import { TrackingModule } from './tracking.module';

/** Tracking: experiments, runs, params, metrics, tags, dataset inputs and artifacts. */
export const trackingService = defineService({
  name: 'tracking',
  defaultPort: 50053,
  module: TrackingModule,
  grpcServices: [ExperimentServiceDesc, RunServiceDesc, MetricServiceDesc, ArtifactServiceDesc],
  entities: [ExperimentEntity, ExperimentTagEntity, RunEntity, RunParamEntity, RunTagEntity, RunInputEntity, ProjectSettingsEntity, ...METRIC_ENTITIES],
  migrations: [CreateTrackingTables1767500000000, ...METRIC_MIGRATIONS],
});
