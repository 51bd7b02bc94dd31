import { definePlugin, z, type ComputeBackend, type JobSpec, type SubmitOptions } from '@trellis/plugin-sdk';
import { MemoryComputeBackend } from '@trellis/plugin-sdk/testing';

const GiB = 1024 ** 3;

/** A memory cluster a spec can reach into: the backend itself, and a switch that makes it stop (and start again) answering. */
export interface MemoryCluster {
  backend: MemoryComputeBackend;
  /** While false, every call of the instance but `whyCannotRun` and `close` fails, as a backend out of reach does. */
  answering: boolean;
  /** While false, `submit` fails as a backend out of reach does, though the cluster's health check passes. */
  submitting: boolean;
}

/** The memory clusters of this process, by instance name (the latest instance of each name). */
export const memoryClusters = new Map<string, MemoryCluster>();

/** Methods that still work while the cluster does not answer: what needs no backend. */
const ALWAYS = new Set<PropertyKey>(['whyCannotRun', 'health', 'close']);

/**
 * A compute plugin for the service's specs: each instance is a `MemoryComputeBackend` with `cpus`
 * CPUs (8), 32 GiB and `gpus` H100s of 80 GiB; its jobs run `echo`, `exit` and `sleep` in this
 * process. With `images`, a job with a container image runs its command (the backend stands for
 * one that runs images); without, whyCannotRun refuses it. `memoryClusters` reaches each instance.
 */
export const memoryComputePlugin = definePlugin({
  manifest: { kind: 'compute', id: 'compute-memory', apiVersion: 'v1' },
  configSchema: z.object({ gpus: z.number().int().min(0).default(0), cpus: z.number().int().min(1).default(8), images: z.boolean().default(false) }),
  create: (ctx, config) => {
    const backend = new MemoryComputeBackend({
      capacity: { total: { cpus: config.cpus, memoryBytes: 32 * GiB, gpus: config.gpus ? { 'nvidia-h100': { count: config.gpus, memoryBytes: 80 * GiB } } : {} } },
    });
    const cluster: MemoryCluster = { backend, answering: true, submitting: true };
    memoryClusters.set(ctx.instanceName, cluster);
    const withoutImage = (job: JobSpec): JobSpec => (config.images && job.image !== undefined ? { ...job, image: undefined, command: job.command ?? [] } : job);
    const own: Partial<ComputeBackend> = {
      whyCannotRun: (job: JobSpec) => backend.whyCannotRun(withoutImage(job)),
      submit: (job: JobSpec, options: SubmitOptions) => backend.submit(withoutImage(job), options),
      health: async () => (cluster.answering ? { ok: true } : { ok: false, message: `memory cluster ${ctx.instanceName} does not answer` }),
    };
    return new Proxy(backend as ComputeBackend, {
      get(target, property) {
        const value = (Object.hasOwn(own, property) ? own[property as keyof ComputeBackend] : Reflect.get(target, property)) as unknown;
        if (typeof value !== 'function') return value;
        const method = (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
        if (ALWAYS.has(property)) return method;
        return (...args: unknown[]) => {
          if (!cluster.answering || (property === 'submit' && !cluster.submitting)) throw new Error(`memory cluster ${ctx.instanceName} does not answer`);
          return method(...args);
        };
      },
    });
  },
});
