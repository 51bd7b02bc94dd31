import { Module } from '@nestjs/common';
import { PredictionsModule } from '../predictions/predictions.module';
import { ArtifactFetcher } from '../revisions/artifact-fetcher';
import { EndpointDirectory } from '../revisions/endpoint-directory';
import { EndpointRouter } from '../revisions/endpoint-router';
import { RevisionLoader } from '../revisions/revision-loader';
import { RuntimeWorkers } from '../revisions/runtime-workers';
import { RolloutRepository } from '../rollouts/rollout.repository';
import { EndpointGrpc } from './endpoint.grpc';
import { EndpointRepository } from './endpoint.repository';
import { EndpointService } from './endpoint.service';
import { ModelVersions } from './model-versions';
import { Runtimes } from './runtimes';

/**
 * Endpoints and their revisions: the EndpointService handlers, the rules and the repository
 * behind them, the loading of revisions into their runtimes' workers, and the router that
 * inference resolves models through, with the directory of endpoints by name it reads them from.
 * CreateEndpoint writes a rollout policy (RolloutRepository, shared with RolloutsModule) and a
 * logging share (applied at once through PredictionLog) with the endpoint.
 */
@Module({
  imports: [PredictionsModule],
  controllers: [EndpointGrpc],
  providers: [EndpointService, EndpointRepository, ModelVersions, Runtimes, ArtifactFetcher, RuntimeWorkers, RevisionLoader, EndpointDirectory, EndpointRouter, RolloutRepository],
  exports: [EndpointService, EndpointRouter, RolloutRepository],
})
export class EndpointsModule {}
