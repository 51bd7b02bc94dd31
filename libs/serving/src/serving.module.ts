import { Module } from '@nestjs/common';
import { EndpointsModule } from './endpoints/endpoints.module';
import { InferenceModule } from './inference/inference.module';
import { PredictionLog } from './predictions/prediction-log';
import { PredictionsModule } from './predictions/predictions.module';
import { EndpointRouter } from './revisions/endpoint-router';
import { RolloutsModule } from './rollouts/rollouts.module';

/** Wires the serving service's feature modules; nothing else. */
@Module({
  imports: [
    EndpointsModule,
    PredictionsModule,
    RolloutsModule,
    InferenceModule.register({
      imports: [EndpointsModule, PredictionsModule],
      targets: { useExisting: EndpointRouter },
      observer: { useExisting: PredictionLog },
      info: { name: 'trellis-serving', version: '0.1.0', extensions: [] },
    }),
  ],
})
export class ServingModule {}
