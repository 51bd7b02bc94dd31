export { trackingService } from './tracking.definition';
export { TRACKING_LIMITS } from './validation/tracking-limits';
