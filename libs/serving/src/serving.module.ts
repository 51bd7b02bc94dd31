import { Module } from '@nestjs/common';
import { EndpointsModule } from './endpoints/endpoints.module';
import { InferenceModule } from './inference/inference.module';
import { EndpointRouter } from './revisions/endpoint-router';

/** Wires the serving service's feature modules; nothing else. */
@Module({
  imports: [
    EndpointsModule,
    InferenceModule.register({ imports: [EndpointsModule], targets: { useExisting: EndpointRouter }, info: { name: 'trellis-serving', version: '0.1.0', extensions: [] } }),
  ],
})
export class ServingModule {}
