import { create } from '@bufbuild/protobuf';
import { ResourceAmountSchema, type ResourceAmount } from '@trellis/proto';
import type { ComputeResources } from '@trellis/plugin-sdk';
import type { Resources } from './admission';

/** A GPU type as clusters report it and jobs name it: `nvidia-h100`. */
export const GPU_TYPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Whether `name` names a resource: `cpu` (millicores), `memory` (bytes) or `gpu/<type>` (GPUs). */
export function isResourceName(name: string): boolean {
  return name === 'cpu' || name === 'memory' || (name.startsWith('gpu/') && GPU_TYPE.test(name.slice(4)));
}

/** The resource of GPUs of one type. */
export function gpuResource(type: string): string {
  return `gpu/${type}`;
}

/** A backend's amounts as named resources: CPU cores become millicores, GPUs one resource per type. */
export function resourcesOf(amounts: ComputeResources): Record<string, number> {
  const resources: Record<string, number> = { cpu: Math.floor(amounts.cpus * 1000), memory: amounts.memoryBytes };
  for (const [type, pool] of Object.entries(amounts.gpus)) resources[gpuResource(type)] = pool.count;
  return resources;
}

/** Named amounts as the proto lists them, in name order. */
export function amountsToProto(resources: Resources): ResourceAmount[] {
  return Object.keys(resources)
    .sort()
    .map((resource) => create(ResourceAmountSchema, { resource, amount: BigInt(resources[resource]) }));
}

/** Adds `times` × `request` into `total`. */
export function addResources(total: Record<string, number>, request: Resources, times = 1): void {
  for (const [name, amount] of Object.entries(request)) total[name] = (total[name] ?? 0) + amount * times;
}
