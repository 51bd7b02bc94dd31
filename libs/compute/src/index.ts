export { computeService } from './compute.definition';
