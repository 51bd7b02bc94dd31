import { computeKubernetesPlugin } from './compute-kubernetes.plugin';

export { computeKubernetesConfig } from './compute-kubernetes.plugin';
export default computeKubernetesPlugin;
