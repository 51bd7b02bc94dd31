export { trackingService } from './tracking.service';
export { TRACKING_LIMITS } from './validation/tracking-limits';
