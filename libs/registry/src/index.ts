export { registryService } from './registry.service';
export { REGISTRY_LIMITS } from './registry-limits';
