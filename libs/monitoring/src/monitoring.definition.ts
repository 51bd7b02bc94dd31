import { defineService } from '@trellis/platform';
import { MonitoringServiceDesc } from '@trellis/proto';
import { MonitorEntity } from './monitors/monitor.entity';
import { monitoringConfig } from './monitoring.config';
import { MonitoringModule } from './monitoring.module';
import { CreateMonitoringTables1796476304875 } from './migrations/1796476304875-create-monitoring-tables';

/** The monitoring service: the monitors of each project, created, read, listed, changed and deleted over gRPC. */
export const monitoringService = defineService({
  name: 'monitoring',
  description: 'Keeps the monitors of each project',
  defaultPort: 50058,
  config: monitoringConfig,
  module: MonitoringModule,
  grpcServices: [MonitoringServiceDesc],
  entities: [MonitorEntity],
  migrations: [CreateMonitoringTables1796476304875],
});
