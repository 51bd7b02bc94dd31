import { Module } from '@nestjs/common';
import { EndpointGrpc } from './endpoint.grpc';
import { EndpointRepository } from './endpoint.repository';
import { EndpointService } from './endpoint.service';
import { ModelVersions } from './model-versions';
import { Runtimes } from './runtimes';

/** Endpoints and their revisions: the EndpointService handlers, the rules and the repository behind them. */
@Module({ controllers: [EndpointGrpc], providers: [EndpointService, EndpointRepository, ModelVersions, Runtimes], exports: [EndpointService] })
export class EndpointsModule {}
