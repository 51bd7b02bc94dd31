import { Module } from '@nestjs/common';
import { MonitorGrpc } from './monitor.grpc';
import { MonitorRepository } from './monitor.repository';
import { MonitorService } from './monitor.service';

/** Monitors: the MonitoringService handlers, the rules and the repository behind them. */
@Module({ controllers: [MonitorGrpc], providers: [MonitorService, MonitorRepository] })
export class MonitorsModule {}
