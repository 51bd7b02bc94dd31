export { servingService } from './serving.definition';
