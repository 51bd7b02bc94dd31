import { Module } from '@nestjs/common';
import { RunAccessModule } from '../runs/run-access.module';
import { MetricGrpc } from './metric.grpc';
import { MetricService } from './metric.service';
import { MetricRepository } from './metric.repository';

/** Metrics: their handlers and series; runs log and read latest metrics through MetricRepository. */
@Module({
  imports: [RunAccessModule],
  controllers: [MetricGrpc],
  providers: [MetricService, MetricRepository],
  exports: [MetricRepository],
})
export class MetricsModule {}
