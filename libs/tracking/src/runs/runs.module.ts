import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { ExperimentsModule } from '../experiments/experiments.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RunAccessModule } from './run-access.module';
import { RunGrpc } from './run.grpc';
import { RunService } from './run.service';
import { RunSearch } from './run-search';

/** Runs: their handlers, rules and search; a run's metrics go to the metrics feature, its artifact store comes from artifacts. */
@Module({
  imports: [RunAccessModule, ExperimentsModule, MetricsModule, ArtifactsModule],
  controllers: [RunGrpc],
  providers: [RunService, RunSearch],
})
export class RunsModule {}
