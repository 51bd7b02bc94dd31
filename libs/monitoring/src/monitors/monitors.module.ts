import { Module } from '@nestjs/common';
import { Lineage } from './lineage';
import { MonitorGrpc } from './monitor.grpc';
import { MonitorRepository } from './monitor.repository';
import { MonitorService } from './monitor.service';
import { PendingReferenceWorker } from './pending-reference.worker';
import { ReferenceFitter } from './reference-fitter';

/** Monitors: the MonitoringService handlers, the rules and the repository behind them, and the fitting of references other features use. */
@Module({
  controllers: [MonitorGrpc],
  providers: [MonitorService, MonitorRepository, ReferenceFitter, Lineage, PendingReferenceWorker],
  exports: [ReferenceFitter],
})
export class MonitorsModule {}
