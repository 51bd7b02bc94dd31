import { Module } from '@nestjs/common';
import { AlertsModule } from './alerts/alerts.module';
import { DatasetsModule } from './datasets/datasets.module';
import { MonitorsModule } from './monitors/monitors.module';
import { PerformanceModule } from './performance/performance.module';
import { WindowsModule } from './windows/windows.module';

/** Wires the monitoring service's feature modules; nothing else. */
@Module({ imports: [MonitorsModule, WindowsModule, PerformanceModule, AlertsModule, DatasetsModule] })
export class MonitoringModule {}
