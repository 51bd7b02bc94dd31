import { Module } from '@nestjs/common';
import { EndpointsModule } from './endpoints/endpoints.module';
import { InferenceModule } from './inference/inference.module';
import { EndpointRouter } from './revisions/endpoint-router';
import { RolloutsModule } from './rollouts/rollouts.module';

/** Wires the serving service's feature modules; nothing else. */
@Module({
  imports: [
    EndpointsModule,
    RolloutsModule,
    InferenceModule.register({ imports: [EndpointsModule], targets: { useExisting: EndpointRouter }, info: { name: 'trellis-serving', version: '0.1.0', extensions: [] } }),
  ],
})
export class ServingModule {}
