import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// kubernetes-models exports its files to `import` only; loading them by path works from CommonJS
// too (Node 20's require of ES modules, jest's transform), which its package exports would refuse.
const load = createRequire(__filename);
const root = dirname(load.resolve('kubernetes-models/package.json'));
const model = <Module>(file: string): Module => load(join(root, `${file}.js`)) as Module;

export const { ConfigMap } = model<typeof import('kubernetes-models/v1/ConfigMap')>('v1/ConfigMap');
export const { Namespace } = model<typeof import('kubernetes-models/v1/Namespace')>('v1/Namespace');
export const { PersistentVolumeClaim } = model<typeof import('kubernetes-models/v1/PersistentVolumeClaim')>('v1/PersistentVolumeClaim');
export const { Service } = model<typeof import('kubernetes-models/v1/Service')>('v1/Service');
export const { Deployment } = model<typeof import('kubernetes-models/apps/v1/Deployment')>('apps/v1/Deployment');
export const { StatefulSet } = model<typeof import('kubernetes-models/apps/v1/StatefulSet')>('apps/v1/StatefulSet');
export const { PodDisruptionBudget } = model<typeof import('kubernetes-models/policy/v1/PodDisruptionBudget')>('policy/v1/PodDisruptionBudget');

/** A Kubernetes object of the generated manifests: its `validate()` checks it against Kubernetes' OpenAPI schema. */
export type KubernetesObject = InstanceType<
  typeof ConfigMap | typeof Namespace | typeof PersistentVolumeClaim | typeof Service | typeof Deployment | typeof StatefulSet | typeof PodDisruptionBudget
>;

/** Every kind the manifests use, by `apiVersion/kind`, for reading them back. */
export const KINDS = Object.fromEntries(
  [ConfigMap, Namespace, PersistentVolumeClaim, Service, Deployment, StatefulSet, PodDisruptionBudget].map((kind) => [`${kind.apiVersion}/${kind.kind}`, kind]),
);
