import { execFile } from 'node:child_process';
import type { GpuPool, PluginLogger, ResourceRequest } from '@trellis/plugin-sdk';

/** One GPU of this host, as nvidia-smi lists it. */
export interface Gpu {
  index: number;
  uuid: string;
  /** The normalized type, the key of `ComputeResources.gpus` (`nvidia-h200`). */
  type: string;
  memoryBytes: number;
}

const MiB = 1024 * 1024;
const QUERY = ['--query-gpu=index,name,uuid,memory.total', '--format=csv,noheader,nounits'];

/**
 * The GPUs `nvidiaSmi` lists; none when it is not installed. A failing nvidia-smi (no driver
 * loaded) is logged and counts as no GPUs, since a job could not use them either.
 */
export function discoverGpus(nvidiaSmi: string, logger: PluginLogger): Promise<Gpu[]> {
  return new Promise((resolve) => {
    execFile(nvidiaSmi, QUERY, { timeout: 30_000 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return resolve([]);
      if (error) {
        logger.warn({ nvidiaSmi, error: error.message, stderr: stderr.slice(0, 500) }, 'nvidia-smi failed; jobs get no GPUs');
        return resolve([]);
      }
      resolve(parseGpus(stdout));
    });
  });
}

/** The GPUs of nvidia-smi's CSV (`0, NVIDIA H200, GPU-…, 143771`: memory in MiB). */
export function parseGpus(csv: string): Gpu[] {
  return csv
    .split('\n')
    .map((line) => line.split(',').map((field) => field.trim()))
    .filter((fields) => fields.length === 4 && /^\d+$/.test(fields[0] ?? '') && /^\d+$/.test(fields[3] ?? ''))
    .map(([index, name, uuid, memoryMiB]) => ({ index: Number(index), uuid: uuid as string, type: gpuType(name as string), memoryBytes: Number(memoryMiB) * MiB }));
}

/**
 * A stable key for a GPU model: nvidia-smi's name in lowercase, each run of other characters than
 * letters and digits one dash, prefixed `nvidia-` where the name lacks it
 * (`NVIDIA H200` → `nvidia-h200`, `Tesla V100-SXM2-16GB` → `nvidia-tesla-v100-sxm2-16gb`).
 */
export function gpuType(name: string): string {
  const key = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return key.startsWith('nvidia-') ? key : `nvidia-${key}`;
}

/** The GPUs by type with the memory of each (the smallest, should one type differ), counting only `gpus`. */
export function gpuPools(gpus: readonly Gpu[], all: readonly Gpu[] = gpus): Record<string, GpuPool> {
  const pools: Record<string, GpuPool> = {};
  for (const { type } of all) pools[type] ??= { count: 0, memoryBytes: Math.min(...all.filter((gpu) => gpu.type === type).map((gpu) => gpu.memoryBytes)) };
  for (const { type } of gpus) (pools[type] as GpuPool).count++;
  return pools;
}

/** The GPUs a replica asking `request` may get. */
export function eligibleGpus(gpus: readonly Gpu[], request: ResourceRequest['gpus']): Gpu[] {
  return gpus.filter((gpu) => (request?.type === undefined || gpu.type === request.type) && gpu.memoryBytes >= (request?.minMemoryBytes ?? 0));
}

/** UUIDs of `request.count` eligible free GPUs for each of `replicas`, lowest index first; undefined when too few are free. */
export function pickGpus(gpus: readonly Gpu[], held: ReadonlySet<string>, request: ResourceRequest['gpus'], replicas: number): string[][] | undefined {
  const count = request?.count ?? 0;
  const free = eligibleGpus(gpus, request).filter((gpu) => !held.has(gpu.uuid));
  if (free.length < count * replicas) return undefined;
  return Array.from({ length: replicas }, (_, replica) => free.slice(replica * count, (replica + 1) * count).map((gpu) => gpu.uuid));
}
