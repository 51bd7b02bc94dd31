import type { ServiceConfigOf } from '@trellis/platform';
import { z } from 'zod';

/** `name=priority` pairs, comma-separated, as `priorityClasses` takes them. */
const PRIORITY_CLASSES = /^\s*[a-z][a-z0-9-]{0,62}\s*=\s*-?\d{1,9}\s*(,\s*[a-z][a-z0-9-]{0,62}\s*=\s*-?\d{1,9}\s*)*$/;

/**
 * The compute service's own settings: the section `services.compute` of trellis.yaml, each key
 * also `TRELLIS_COMPUTE_<KEY>`. docs/configuration.md lists them from the descriptions here.
 */
export const computeConfig = z.object({
  priorityClasses: z
    .string()
    .regex(PRIORITY_CLASSES, 'must be name=priority pairs separated by commas: low=0,normal=100,high=1000')
    .default('low=0,normal=100,high=1000')
    .describe('the priority classes jobs may name, as name=priority pairs (higher goes first); docs/compute.md'),
  defaultPriorityClass: z.string().default('normal').describe('the priority class of a job that names none; one of priorityClasses'),
  maxReplicas: z.coerce.number().int().min(1).max(10_000).default(64).describe('most replicas one job may ask for; SubmitJob answers INVALID_ARGUMENT beyond it'),
  admissionIntervalMs: z.coerce
    .number()
    .int()
    .min(100)
    .default(5000)
    .describe('how often the admission loop looks at the queues when nothing wakes it (submissions, finished jobs and grant changes wake it at once)'),
  capacityCacheMs: z.coerce.number().int().min(0).default(30_000).describe(
      "how long a cluster's reported capacity is reused by the admission loop before it asks the backend again; each ask is a health check, and 3 failed in a row move the cluster's jobs elsewhere (docs/compute.md)",
    ),
  trackingUri: z
    .string()
    .default('http://127.0.0.1:8080')
    .describe("MLFLOW_TRACKING_URI of jobs that name an experiment: the gateway's URL as the jobs reach it; empty: jobs get no tracking run"),
  datasetCacheDir: z
    .string()
    .default('')
    .describe(
      "where jobs' dataset inputs are fetched to, once per version, and copied for DOWNLOAD inputs: a path the backends' jobs read at the same place (compute-local; Slurm on this host or on a shared filesystem); docs/compute.md",
    )
    .meta({ defaultText: '`<dataDir>/compute/datasets`' }),
  datasetCacheMaxBytes: z.coerce
    .number()
    .int()
    .min(0)
    .default(20 * 1024 ** 3)
    .describe('bytes of dataset versions the cache keeps: beyond it the least recently used versions that no live attempt reads are removed; 0: no bound'),
});

/** The parsed settings, as `@Inject(SERVICE_CONFIG)` gives them. */
export type ComputeConfig = ServiceConfigOf<typeof computeConfig>;
