import { Module } from '@nestjs/common';
import { ArtifactsModule } from './artifacts/artifacts.module';
import { ExperimentsModule } from './experiments/experiments.module';
import { MetricsModule } from './metrics/metrics.module';
import { RunsModule } from './runs/runs.module';

/** Wires tracking's feature modules; nothing else. */
@Module({
  imports: [ExperimentsModule, RunsModule, MetricsModule, ArtifactsModule],
})
export class TrackingModule {}
