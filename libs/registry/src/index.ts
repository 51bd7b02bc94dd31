export { registryService } from './registry.definition';
