import { KubeConfig } from '@kubernetes/client-node';
import { definePlugin } from '@trellis/plugin-sdk';
import { type ComputeKubernetesConfig, computeKubernetesConfig } from './config';
import { KubernetesComputeBackend } from './kubernetes-backend';

/** Compute on Kubernetes: a Trellis job is a batch/v1 Job, its replicas the indexes of an Indexed Job. */
export const computeKubernetesPlugin = definePlugin({
  manifest: { kind: 'compute', id: 'compute-kubernetes', apiVersion: 'v1' },
  configSchema: computeKubernetesConfig,
  create: (ctx, config) => new KubernetesComputeBackend(kubeConfig(config), config, ctx.signal),
});

/** The client's config: the kubeconfig given (and its context), or the pod's service account. */
function kubeConfig(config: ComputeKubernetesConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig === undefined) {
    if (config.context !== undefined) throw new TypeError('context: names a context of the kubeconfig, and no kubeconfig is given');
    kc.loadFromCluster();
    return kc;
  }
  try {
    kc.loadFromString(config.kubeconfig);
  } catch (error) {
    throw new TypeError(`kubeconfig: not a kubeconfig Kubernetes' client can read (${(error as Error).message})`, { cause: error });
  }
  if (config.context !== undefined) {
    if (!kc.getContextObject(config.context)) throw new TypeError(`context: the kubeconfig has no context ${JSON.stringify(config.context)} (it has ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(config.context);
  }
  if (!kc.getCurrentCluster()) throw new TypeError('kubeconfig: its current context names no cluster');
  return kc;
}
