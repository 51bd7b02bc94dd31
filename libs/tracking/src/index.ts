export { trackingService } from './tracking.definition';
