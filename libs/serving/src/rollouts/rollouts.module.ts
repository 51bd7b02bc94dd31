import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { ServingMetricsModule } from '../metrics/serving-metrics.module';
import { AliasSetHandler } from './alias-set.handler';
import { CanaryReports } from './canary-reports';
import { DriftDetectedHandler } from './drift-detected.handler';
import { RolloutGrpc } from './rollout.grpc';
import { RolloutService } from './rollout.service';
import { RolloutSignal } from './rollout.signal';
import { RolloutWorker } from './rollout.worker';

/** Progressive rollout: RolloutService's handlers, the alias-move and drift subscribers, every replica's reports of canaries' requests, and the worker that deploys, judges and decides canaries. */
@Module({
  imports: [EndpointsModule, ServingMetricsModule],
  controllers: [RolloutGrpc],
  providers: [CanaryReports, RolloutService, RolloutSignal, RolloutWorker, AliasSetHandler, DriftDetectedHandler],
  exports: [RolloutWorker, AliasSetHandler, DriftDetectedHandler],
})
export class RolloutsModule {}
