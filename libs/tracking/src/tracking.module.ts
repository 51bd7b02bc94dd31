import { Module } from '@nestjs/common';
import { ArtifactGrpc } from './artifacts/artifact.grpc';
import { ArtifactService } from './artifacts/artifact.service';
import { ArtifactStores } from './artifacts/artifact-stores';
import { ExperimentsModule } from './experiments/experiments.module';
import { MetricGrpc } from './metrics/metric.grpc';
import { MetricStore } from './metrics/metric-store';
import { RunAccess } from './runs/run-access';
import { RunGrpc } from './runs/run.grpc';
import { RunService } from './runs/run.service';
import { RunSearch } from './runs/run-search';

/** Wires tracking's handlers and services; nothing else. */
@Module({
  imports: [ExperimentsModule],
  controllers: [RunGrpc, MetricGrpc, ArtifactGrpc],
  providers: [RunService, RunAccess, MetricStore, RunSearch, ArtifactService, ArtifactStores],
})
export class TrackingModule {}
