import { Module } from '@nestjs/common';
import { ArtifactGrpc } from './artifacts/artifact.grpc';
import { ArtifactService } from './artifacts/artifact.service';
import { ArtifactStores } from './artifacts/artifact-stores';
import { ExperimentGrpc } from './experiments/experiment.grpc';
import { ExperimentService } from './experiments/experiment.service';
import { MetricGrpc } from './metrics/metric.grpc';
import { MetricStore } from './metrics/metric-store';
import { RunAccess } from './runs/run-access';
import { RunGrpc } from './runs/run.grpc';
import { RunService } from './runs/run.service';
import { ExperimentSearch } from './experiments/experiment-search';
import { RunSearch } from './runs/run-search';

/** Wires tracking's handlers and services; nothing else. */
@Module({
  controllers: [ExperimentGrpc, RunGrpc, MetricGrpc, ArtifactGrpc],
  providers: [ExperimentService, RunService, RunAccess, MetricStore, RunSearch, ExperimentSearch, ArtifactService, ArtifactStores],
})
export class TrackingModule {}
