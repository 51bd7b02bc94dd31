import { Module } from '@nestjs/common';
import { MonitorsModule } from './monitors/monitors.module';

/** Wires the monitoring service's feature modules; nothing else. */
@Module({ imports: [MonitorsModule] })
export class MonitoringModule {}
