export { registryService } from './registry.definition';
export { REGISTRY_LIMITS } from './registry-limits';
