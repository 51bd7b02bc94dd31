import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { ComputeCapacity, ComputeResources } from '@trellis/plugin-sdk';
import type { ComputeKubernetesConfig } from './config';
import { parseQuantity } from './quantity';

const MIB = 2 ** 20;

type CapacityConfig = Pick<ComputeKubernetesConfig, 'gpuResource' | 'gpuTypeLabel' | 'gpuMemoryLabel' | 'gpuTypes'>;

/** One node's GPUs: the type Trellis names them by, the extended resource they are counted in, the memory of each. */
interface NodeGpus {
  type: string;
  resource: string;
  memoryBytes: number;
}

/**
 * What the cluster has: every node's allocatable CPU, memory and GPUs (by type) in `total`, and in
 * `available` what is left of the schedulable, Ready nodes' allocatable after the requests of the
 * pods bound to them that have not ended (`pods`: every namespace's, as a node is shared).
 */
export function clusterCapacity(nodes: readonly V1Node[], pods: readonly V1Pod[], config: CapacityConfig): ComputeCapacity {
  const used = new Map<string, Record<string, number>>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const sum = used.get(node) ?? {};
    for (const [name, amount] of Object.entries(podRequests(pod))) sum[name] = (sum[name] ?? 0) + amount;
    used.set(node, sum);
  }
  const total = emptyResources();
  const available = emptyResources();
  for (const node of nodes) {
    const allocatable = Object.fromEntries(Object.entries(node.status?.allocatable ?? {}).map(([name, amount]) => [name, parseQuantity(amount)]));
    const gpus = nodeGpus(node, allocatable, config);
    add(total, allocatable, gpus, {});
    if (schedulable(node)) add(available, allocatable, gpus, used.get(node.metadata?.name ?? '') ?? {});
  }
  return { total, available };
}

function emptyResources(): ComputeResources & { gpus: Record<string, { count: number; memoryBytes: number }> } {
  return { cpus: 0, memoryBytes: 0, gpus: {} };
}

function add(into: ReturnType<typeof emptyResources>, allocatable: Record<string, number>, gpus: NodeGpus[], used: Record<string, number>): void {
  const free = (name: string) => Math.max(0, (allocatable[name] ?? 0) - (used[name] ?? 0));
  into.cpus += free('cpu');
  into.memoryBytes += free('memory');
  for (const gpu of gpus) {
    const count = Math.floor(free(gpu.resource));
    const pool = (into.gpus[gpu.type] ??= { count: 0, memoryBytes: gpu.memoryBytes });
    pool.count += count;
  }
}

function schedulable(node: V1Node): boolean {
  return !node.spec?.unschedulable && (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * A node's GPU pools: each configured type with its own resource (a MIG profile) the node has,
 * and GPUs of `gpuResource` under the configured type whose nodeSelector the node matches, else
 * the type its `gpuTypeLabel` names, else `gpu`.
 */
function nodeGpus(node: V1Node, allocatable: Record<string, number>, config: CapacityConfig): NodeGpus[] {
  const labels = node.metadata?.labels ?? {};
  const pools: NodeGpus[] = [];
  const memoryOf = (type: string) => {
    const configured = config.gpuTypes[type]?.memoryBytes;
    if (configured) return configured;
    const label = Number(labels[config.gpuMemoryLabel]);
    if (label > 0) return label * MIB;
    throw new Error(`node ${node.metadata?.name} has GPUs of type ${type} whose memory neither gpuTypes.${type}.memoryBytes nor the node label ${config.gpuMemoryLabel} gives: add gpuTypes.${type}.memoryBytes`);
  };
  for (const [type, spec] of Object.entries(config.gpuTypes)) {
    if (spec.resource && spec.resource !== config.gpuResource && (allocatable[spec.resource] ?? 0) > 0) pools.push({ type, resource: spec.resource, memoryBytes: memoryOf(type) });
  }
  if ((allocatable[config.gpuResource] ?? 0) > 0) {
    const matching = Object.entries(config.gpuTypes).find(([, spec]) => (spec.resource ?? config.gpuResource) === config.gpuResource && spec.nodeSelector && Object.entries(spec.nodeSelector).every(([key, value]) => labels[key] === value));
    const type = matching?.[0] ?? labels[config.gpuTypeLabel] ?? 'gpu';
    pools.push({ type, resource: config.gpuResource, memoryBytes: memoryOf(type) });
  }
  return pools;
}

/** A pod's requests by resource: its containers' requests (a limit alone stands for the request), or its largest init container's where that is more. */
export function podRequests(pod: V1Pod): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const container of pod.spec?.containers ?? []) {
    for (const [name, amount] of Object.entries({ ...container.resources?.limits, ...container.resources?.requests })) sum[name] = (sum[name] ?? 0) + parseQuantity(amount);
  }
  for (const container of pod.spec?.initContainers ?? []) {
    for (const [name, amount] of Object.entries({ ...container.resources?.limits, ...container.resources?.requests })) sum[name] = Math.max(sum[name] ?? 0, parseQuantity(amount));
  }
  return sum;
}
