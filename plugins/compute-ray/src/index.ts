import { computeRayPlugin } from './compute-ray.plugin';

export { computeRayConfig } from './compute-ray.plugin';
export default computeRayPlugin;
