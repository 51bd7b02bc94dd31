import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { LabelGrpc } from './label.grpc';
import { LabelRetentionWorker } from './label-retention.worker';
import { LabelService } from './label.service';
import { PerformanceMonitorDeletedHandler } from './monitor-deleted.handler';
import { PerformanceGauges } from './performance-gauges';
import { PerformanceLedger } from './performance-ledger';
import { PerformanceRepository } from './performance.repository';

/** Performance: labels posted by request id, joined to logged predictions, metrics per window. */
@Module({
  imports: [AlertsModule],
  controllers: [LabelGrpc],
  providers: [PerformanceRepository, PerformanceLedger, LabelService, PerformanceGauges, PerformanceMonitorDeletedHandler, LabelRetentionWorker],
  exports: [PerformanceLedger],
})
export class PerformanceModule {}
