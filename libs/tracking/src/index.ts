export { trackingService } from './tracking.definition';
export { TRACKING_LIMITS } from './shared/tracking-limits';
