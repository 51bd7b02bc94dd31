import { definePlugin, secret, z } from '@trellis/plugin-sdk';
import { RayComputeBackend } from './ray-backend';
import { RayJobsClient } from './ray-jobs-client';

const GPU_TYPE = /^[A-Za-z0-9._-]{1,64}$/;
const amount = (what: string) => z.number({ error: `${what}: a number` }).nonnegative(`${what}: 0 or more`);

/** The config of a compute-ray instance: a Ray cluster's dashboard, where its Jobs REST API is served. */
export const computeRayConfig = z
  .object({
    /** The dashboard's address, `http://ray-head:8265`. */
    address: z.url({ protocol: /^https?$/, error: 'address: an http or https URL of the Ray dashboard (port 8265 by default)' }),
    /** A token for clusters started with `RAY_AUTH_MODE=token`, sent as `Authorization: Bearer <token>`; a secret reference (`env:RAY_AUTH_TOKEN`). */
    authToken: secret(z.string().min(1, 'authToken: must not be empty')).optional(),
    /** Whether jobs that name a container image may run (as `runtime_env.image_uri`, which needs podman on the nodes). */
    allowImages: z.boolean().default(false),
    /** The cluster's resources, for a Ray whose dashboard does not serve the state API's `/api/v0/nodes` (or to cap what Trellis uses). */
    capacity: z
      .object({
        cpus: amount('capacity.cpus'),
        memoryBytes: amount('capacity.memoryBytes'),
        gpus: z.record(z.string().regex(GPU_TYPE, 'capacity.gpus: keys are GPU types'), z.object({ count: z.number().int().nonnegative(), memoryBytes: z.number().int().positive() }).strict()).default({}),
      })
      .strict()
      .optional(),
    /** Memory of one GPU of each accelerator type (`{ A100: 85899345920 }`); Ray does not know it. A node's GPUs without `accelerator_type:<type>` are of type `gpu`. */
    gpuMemoryBytes: z.record(z.string().regex(GPU_TYPE, 'gpuMemoryBytes: keys are accelerator types'), z.number().int().positive()).default({}),
    /** The Python a job of several replicas starts its driver with, on the node Ray runs the entrypoint on. */
    python: z.string().min(1).default('python3'),
    /** How often a watch or a followed log asks Ray, in milliseconds (the REST API pushes nothing). */
    pollIntervalMs: z.number().int().min(50).max(60_000).default(500),
  })
  .strict();

/** Compute on a Ray cluster through its Jobs REST API: a Trellis job is one Ray job. */
export const computeRayPlugin = definePlugin({
  manifest: { kind: 'compute', id: 'compute-ray', apiVersion: 'v1' },
  configSchema: computeRayConfig,
  create: (ctx, config) => new RayComputeBackend(new RayJobsClient(config.address.replace(/\/+$/, ''), config.authToken), { ...config, signal: ctx.signal }),
});
