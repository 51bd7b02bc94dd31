import { Module } from '@nestjs/common';
import { EndpointRepository } from '../endpoints/endpoint.repository';
import { ServingMetricsModule } from '../metrics/serving-metrics.module';
import { StatsModule } from '../stats/stats.module';
import { PredictionGrpc } from './prediction.grpc';
import { PredictionLog } from './prediction-log';
import { PredictionRepository } from './prediction.repository';
import { PredictionService } from './prediction.service';

/** Prediction logs (the inference path's observer: metrics, endpoint statistics, sampled logs) and PredictionService (shares, tracing). */
@Module({
  imports: [ServingMetricsModule, StatsModule],
  controllers: [PredictionGrpc],
  providers: [PredictionLog, PredictionRepository, PredictionService, EndpointRepository],
  exports: [PredictionLog],
})
export class PredictionsModule {}
