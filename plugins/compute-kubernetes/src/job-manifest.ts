import { createHash } from 'node:crypto';
import type { V1EnvVar, V1Job, V1Service, V1Toleration } from '@kubernetes/client-node';
import type { JobSpec } from '@trellis/plugin-sdk';
import type { ComputeKubernetesConfig } from './config';
import { cpuQuantity, memoryQuantity } from './quantity';

/** Labels and annotations Trellis puts on what it creates. */
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_TRELLIS = `${MANAGED_BY}=trellis`;
export const KEY_LABEL = 'trellis.dev/idempotency-key-hash';
export const KEY_ANNOTATION = 'trellis.dev/idempotency-key';
export const REPLICAS_ANNOTATION = 'trellis.dev/replicas';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
const PRIORITY_LABEL = 'kueue.x-k8s.io/priority-class';
/** Label keys that are Trellis's, not the job's: `list` leaves them out. */
export const OWN_LABELS = [MANAGED_BY, KEY_LABEL, QUEUE_LABEL, PRIORITY_LABEL];
/** The one container of each pod. */
export const CONTAINER = 'main';

const LABEL_KEY = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_REPLICAS = 1024;
const INDEX_FIELD = `metadata.annotations['${COMPLETION_INDEX}']`;

/**
 * The Job name for an idempotency key: `trellis-` and 20 hex digits of its SHA-256, a DNS-1035
 * label (a Service may carry it) short enough that `<name>-<index>` stays a valid hostname.
 */
export function jobName(idempotencyKey: string): string {
  return `trellis-${keyHash(idempotencyKey)}`;
}

function keyHash(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 20);
}

/** What the manifests are made from besides the job. */
export type ManifestOptions = Pick<ComputeKubernetesConfig, 'namespace' | 'defaultImage' | 'gpuResource' | 'gpuTypeLabel' | 'gpuTolerations' | 'gpuTypes' | 'kueue' | 'masterPort' | 'ttlSecondsAfterFinished'>;

/** The replicas of a job, checked. */
export function replicasOf(job: JobSpec): number {
  const replicas = job.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw new TypeError(`replicas: an integer from 1 to ${MAX_REPLICAS}, got ${replicas}`);
  return replicas;
}

/**
 * The batch/v1 Job for `job`: Indexed (completions = parallelism = replicas), no retries of its own
 * (Trellis retries), each pod's RANK and TRELLIS_REPLICA_INDEX from its completion index. Throws a
 * TypeError naming the field of `job` Kubernetes cannot take.
 */
export function jobManifest(job: JobSpec, idempotencyKey: string, options: ManifestOptions): V1Job {
  const name = jobName(idempotencyKey);
  const replicas = replicasOf(job);
  const image = job.image ?? options.defaultImage;
  if (image === undefined) throw new TypeError('image: compute-kubernetes runs container images; give image, or set defaultImage in the config');
  if (job.command !== undefined && (!Array.isArray(job.command) || job.command.length === 0 || !job.command.every((word) => typeof word === 'string'))) {
    throw new TypeError('command: give the program and its arguments as a non-empty list of strings, or leave it out to run the image\'s entrypoint');
  }
  const labels = checkedLabels(job.labels ?? {});
  const ownLabels: Record<string, string> = { [MANAGED_BY]: 'trellis', [KEY_LABEL]: keyHash(idempotencyKey) };
  if (options.kueue) {
    ownLabels[QUEUE_LABEL] = options.kueue.queueName;
    if (options.kueue.priorityClass) ownLabels[PRIORITY_LABEL] = options.kueue.priorityClass;
  }
  const { nodeSelector, tolerations, resources } = placement(job, options);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: options.namespace,
      labels: { ...labels, ...ownLabels },
      annotations: { [KEY_ANNOTATION]: idempotencyKey, [REPLICAS_ANNOTATION]: String(replicas), 'trellis.dev/name': job.name.slice(0, 253) },
    },
    spec: {
      completionMode: 'Indexed',
      completions: replicas,
      parallelism: replicas,
      backoffLimit: 0,
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished,
      ...(options.kueue ? { suspend: true } : {}),
      template: {
        metadata: { labels: { [MANAGED_BY]: 'trellis' } },
        spec: {
          restartPolicy: 'Never',
          ...(replicas > 1 ? { subdomain: name } : {}),
          ...(nodeSelector ? { nodeSelector } : {}),
          ...(tolerations.length > 0 ? { tolerations } : {}),
          containers: [
            {
              name: CONTAINER,
              image,
              ...(job.command ? { command: job.command.map(literal) } : {}),
              env: env(job, name, replicas, options),
              resources,
            },
          ],
        },
      },
    },
  };
}

/**
 * The headless Service that gives each pod of a job with several replicas a stable DNS name
 * (`<job>-<index>.<job>`); owned by the Job, so Kubernetes deletes it with the Job.
 */
export function serviceManifest(job: V1Job, port: number): V1Service {
  const name = job.metadata?.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: job.metadata?.namespace,
      labels: { [MANAGED_BY]: 'trellis' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata?.uid ?? '', blockOwnerDeletion: true }],
    },
    spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector: { [JOB_NAME_LABEL]: name }, ports: [{ name: 'rendezvous', port, protocol: 'TCP' }] },
  };
}

function env(job: JobSpec, name: string, replicas: number, options: ManifestOptions): V1EnvVar[] {
  const own = new Set(['TRELLIS_BACKEND_JOB_ID', 'TRELLIS_REPLICA_INDEX', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT']);
  const vars: V1EnvVar[] = [];
  for (const [key, value] of Object.entries(job.env ?? {})) {
    if (!ENV_NAME.test(key) || typeof value !== 'string') throw new TypeError(`env: ${JSON.stringify(key.slice(0, 40))} must be a variable name (letters, digits, _) with a string value`);
    if (!own.has(key)) vars.push({ name: key, value: literal(value) });
  }
  const index = { valueFrom: { fieldRef: { fieldPath: INDEX_FIELD } } };
  return [
    ...vars,
    { name: 'TRELLIS_BACKEND_JOB_ID', value: name },
    { name: 'TRELLIS_REPLICA_INDEX', ...index },
    { name: 'RANK', ...index },
    { name: 'WORLD_SIZE', value: String(replicas) },
    { name: 'LOCAL_RANK', value: '0' },
    { name: 'LOCAL_WORLD_SIZE', value: '1' },
    // Replica 0's stable name through the headless Service, resolved by the pod's namespace search path.
    { name: 'MASTER_ADDR', value: replicas > 1 ? `${name}-0.${name}` : 'localhost' },
    { name: 'MASTER_PORT', value: String(options.masterPort) },
  ];
}

/** Where the pods go and what each asks for: CPU and memory, and GPUs of the type's resource on the type's nodes. */
function placement(job: JobSpec, options: ManifestOptions) {
  const { cpus, memoryBytes, gpus } = job.resources ?? ({} as JobSpec['resources']);
  if (!(Number.isFinite(cpus) && cpus > 0)) throw new TypeError(`resources.cpus: a number above 0, got ${cpus}`);
  if (!(Number.isFinite(memoryBytes) && memoryBytes > 0)) throw new TypeError(`resources.memoryBytes: a number above 0, got ${memoryBytes}`);
  const amounts: Record<string, string> = { cpu: cpuQuantity(cpus), memory: memoryQuantity(memoryBytes) };
  const limits: Record<string, string> = { memory: amounts.memory };
  let nodeSelector: Record<string, string> | undefined;
  let tolerations: V1Toleration[] = [];
  if (gpus && gpus.count > 0) {
    if (!Number.isInteger(gpus.count)) throw new TypeError(`resources.gpus.count: a whole number, got ${gpus.count}`);
    const type = gpuType(gpus, options);
    const configured = type === undefined ? undefined : options.gpuTypes[type];
    const resource = configured?.resource ?? options.gpuResource;
    limits[resource] = String(gpus.count);
    amounts[resource] = String(gpus.count);
    if (type !== undefined) nodeSelector = configured?.nodeSelector ?? { [options.gpuTypeLabel]: type };
    tolerations = configured?.tolerations ?? options.gpuTolerations;
  }
  return { nodeSelector, tolerations, resources: { requests: amounts, limits } };
}

/** The GPU type a job gets: the one it names, or the configured type with the least memory that has enough. */
function gpuType(gpus: NonNullable<JobSpec['resources']['gpus']>, options: ManifestOptions): string | undefined {
  if (gpus.type !== undefined) {
    if (!LABEL_VALUE.test(gpus.type) || gpus.type === '') throw new TypeError(`resources.gpus.type: a GPU type name (a label value), got ${JSON.stringify(gpus.type.slice(0, 80))}`);
    return gpus.type;
  }
  if (!gpus.minMemoryBytes) return undefined;
  const fitting = Object.entries(options.gpuTypes)
    .filter(([, type]) => (type.memoryBytes ?? 0) >= (gpus.minMemoryBytes ?? 0))
    .sort(([, a], [, b]) => (a.memoryBytes ?? 0) - (b.memoryBytes ?? 0));
  if (fitting.length === 0) throw new TypeError(`resources.gpus.minMemoryBytes: no GPU type in the config's gpuTypes has memoryBytes of ${gpus.minMemoryBytes} or more`);
  return fitting[0][0];
}

function checkedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_KEY.test(key) || typeof value !== 'string' || !LABEL_VALUE.test(value)) {
      throw new TypeError(`labels: ${JSON.stringify(key.slice(0, 40))} must be a key of 1 to 63 and a value of at most 63 characters of A-Z a-z 0-9 . _ -, each starting and ending with a letter or digit`);
    }
  }
  return { ...labels };
}

/** `text` with Kubernetes' $(VAR) expansion undone (`$` written `$$`), so the container sees it as given. */
function literal(text: string): string {
  return text.replace(/\$/g, '$$$$');
}
