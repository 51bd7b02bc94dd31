export { monitoringService } from './monitoring.definition';
