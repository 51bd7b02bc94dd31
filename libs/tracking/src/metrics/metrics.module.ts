import { Module } from '@nestjs/common';
import { RunAccessModule } from '../runs/run-access.module';
import { MetricGrpc } from './metric.grpc';
import { MetricService } from './metric.service';
import { MetricStore } from './metric-store';

/** Metrics: their handlers and series; runs log and read latest metrics through MetricStore. */
@Module({
  imports: [RunAccessModule],
  controllers: [MetricGrpc],
  providers: [MetricService, MetricStore],
  exports: [MetricStore],
})
export class MetricsModule {}
