import { computeKubernetesPlugin } from './compute-kubernetes.plugin';

export { computeKubernetesConfig } from './config';
export default computeKubernetesPlugin;
