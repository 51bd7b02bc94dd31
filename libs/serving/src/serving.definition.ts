import { defineService, subscription } from '@trellis/platform';
import { AliasSetEventSchema, EndpointServiceDesc, GRPCInferenceServiceDesc, PredictionServiceDesc, RolloutServiceDesc, WindowClosedEventSchema } from '@trellis/proto';
import { EndpointEntity, RevisionEntity } from './endpoints/endpoint.entity';
import { CreateServingTables1796456739312 } from './migrations/1796456739312-create-serving-tables';
import { CreatePredictionTables1796500000000 } from './migrations/1796500000000-create-prediction-tables';
import { CreateRolloutTables1796490000000 } from './migrations/1796490000000-create-rollout-tables';
import { CreateCanaryReports1796510000000 } from './migrations/1796510000000-create-canary-reports';
import { AddRolloutDriftGuard1796520000000 } from './migrations/1796520000000-add-rollout-drift-guard';
import { CreateEndpointStats1796530000000 } from './migrations/1796530000000-create-endpoint-stats';
import { PredictionEntity, PredictionLoggingEntity } from './predictions/prediction.entity';
import { ALIAS_SET, AliasSetHandler } from './rollouts/alias-set.handler';
import { DRIFT_DETECTED, DriftDetectedHandler } from './rollouts/drift-detected.handler';
import { CanaryReportEntity, RolloutEntity, RolloutPolicyEntity } from './rollouts/rollout.entity';
import { RolloutWorker } from './rollouts/rollout.worker';
import { servingConfig } from './serving.config';
import { EndpointStatsEntity } from './stats/endpoint-stats.entity';
import { ServingModule } from './serving.module';

/** The serving service: endpoints of each project, registry versions deployed behind them as revisions, and their traffic. */
export const servingService = defineService({
  name: 'serving',
  description: 'Serves registry versions behind endpoints, with revisions and traffic splits',
  defaultPort: 50057,
  config: servingConfig,
  module: ServingModule,
  grpcServices: [EndpointServiceDesc, GRPCInferenceServiceDesc, RolloutServiceDesc, PredictionServiceDesc],
  // Progressive rollout: an endpoint that follows an alias canaries each version it moves to, rolled back on its policy's drift monitor's dataset drift.
  subscriptions: [
    subscription({ subject: ALIAS_SET, schema: AliasSetEventSchema, handler: AliasSetHandler }),
    subscription({ subject: DRIFT_DETECTED, schema: WindowClosedEventSchema, handler: DriftDetectedHandler }),
  ],
  workers: [RolloutWorker],
  calls: ['registry', 'tracking'],
  // Every replica fetches the files of the revisions it serves from the registry, at start too.
  identity: { purpose: "fetches revisions' model files from the registry, on behalf of whoever deployed them" },
  plugins: {
    runtime: {
      purpose: "runs revisions' models: each runtime instance is one a revision can name",
      optional: true,
      // ONNX models, when runtime-onnx is in the program: `npm start` serves them out of the box.
      defaults: { onnx: { plugin: 'runtime-onnx', config: async () => ({}) } },
    },
  },
  entities: [EndpointEntity, RevisionEntity, RolloutPolicyEntity, RolloutEntity, CanaryReportEntity, PredictionEntity, PredictionLoggingEntity, EndpointStatsEntity],
  migrations: [CreateServingTables1796456739312, CreateRolloutTables1796490000000, CreatePredictionTables1796500000000, CreateCanaryReports1796510000000, AddRolloutDriftGuard1796520000000, CreateEndpointStats1796530000000],
});
