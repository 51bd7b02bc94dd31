import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { MonitorsModule } from '../monitors/monitors.module';
import { PerformanceModule } from '../performance/performance.module';
import { WindowsMonitorDeletedHandler } from './monitor-deleted.handler';
import { PredictionLoggedHandler } from './prediction-logged.handler';
import { WindowCloserWorker } from './window-closer.worker';
import { WindowMetrics } from './window-metrics';
import { WindowResults } from './window-results.service';
import { WindowScorer } from './window-scorer';
import { WindowGrpc } from './window.grpc';
import { WindowRepository } from './window.repository';
import { WindowService } from './window.service';

/** Windows: prediction-log ingest, count and time windows, their scoring and results. */
@Module({
  imports: [MonitorsModule, PerformanceModule, AlertsModule],
  controllers: [WindowGrpc],
  providers: [WindowService, WindowResults, WindowRepository, WindowScorer, WindowMetrics, PredictionLoggedHandler, WindowsMonitorDeletedHandler, WindowCloserWorker],
  // The datasets feature stores each version as a window through it.
  exports: [WindowService],
})
export class WindowsModule {}
