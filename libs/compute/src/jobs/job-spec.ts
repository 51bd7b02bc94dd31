import { durationMs } from '../durations';
import { checkLength, checkNoControlCharacters, checkNoNul, checkRequired, excerpt, InvalidArgumentError } from '@trellis/platform';
import { DatasetInputMode, type JobSpec } from '@trellis/proto';
import type { Resources } from '../admission';
import { GPU_TYPE, gpuResource } from '../resources';

/** A dataset version a job reads, as SubmitJob took it. */
export interface DatasetInputSpec {
  /** `datasets:/<name>/<n>` or `datasets:/<name>@<tag>`, as submitted. */
  reference: string;
  mode: 'DOWNLOAD' | 'MOUNT';
  /** The version it named at submission, `datasets:/<name>/<n>`. */
  resolvedReference?: string;
}

/** A job's spec as validated and stored; it never changes after submission. */
export interface StoredJobSpec {
  name: string;
  image?: string;
  command: string[];
  env: Record<string, string>;
  resources: { cpuMillis: number; memoryBytes: number; gpus: number; gpuType: string };
  replicas: number;
  retries: { max: number; backoffMs: number };
  /** 0: no timeout. */
  timeoutMs: number;
  inputs: DatasetInputSpec[];
  experimentId: string;
  priorityClass: string;
}

const KiB = 1024;
const GiB = 1024 ** 3;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The limits SubmitJob holds a spec to, beside those of resources.proto. */
export const SPEC_LIMITS = {
  envBytes: 64 * KiB,
  commandBytes: 64 * KiB,
  maxRetries: 10,
  maxBackoffMs: DAY_MS,
  defaultBackoffMs: 10_000,
  maxTimeoutMs: 30 * DAY_MS,
  maxCpuMillis: 10_000_000,
  maxMemoryBytes: 2 ** 50,
  maxGpus: 1024,
  defaultCpuMillis: 1000,
  defaultMemoryBytes: GiB,
} as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Variables the service sets itself: a job may not set them. */
const RESERVED_ENV = /^(TRELLIS_|MLFLOW_TRACKING_|MLFLOW_RUN_ID$|MLFLOW_EXPERIMENT_ID$)/;
const DATASET_REFERENCE = /^datasets:\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}(\/[1-9][0-9]{0,9}|@[A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;
const IMAGE = /^[^\s\0]{1,512}$/;

/** Checks every field of a submitted spec and gives it with defaults filled in; INVALID_ARGUMENT names the first bad field. */
export function validateJobSpec(spec: JobSpec | undefined, limits: { maxReplicas: number; priorityClass: string }): StoredJobSpec {
  if (!spec) throw new InvalidArgumentError('is required', 'spec');
  checkRequired(spec.name.trim(), 'spec.name');
  checkLength(spec.name, 128, 'spec.name');
  checkNoControlCharacters(spec.name, 'spec.name');
  if (spec.image === '' && spec.command.length === 0) throw new InvalidArgumentError('a job needs an image or a command (or both)', 'spec.command');
  if (spec.image !== '' && !IMAGE.test(spec.image)) throw new InvalidArgumentError('must be an image reference without spaces, at most 512 characters', 'spec.image');
  let commandBytes = 0;
  spec.command.forEach((arg, index) => {
    checkNoNul(arg, `spec.command[${index}]`);
    commandBytes += Buffer.byteLength(arg);
  });
  if (spec.command.length > 0 && spec.command[0] === '') throw new InvalidArgumentError('must name a program', 'spec.command[0]');
  if (commandBytes > SPEC_LIMITS.commandBytes) throw new InvalidArgumentError(`is ${commandBytes} bytes; at most ${SPEC_LIMITS.commandBytes} in all`, 'spec.command');
  return {
    name: spec.name,
    ...(spec.image === '' ? {} : { image: spec.image }),
    command: [...spec.command],
    env: validateEnv(spec.env),
    resources: validateResources(spec),
    replicas: validateReplicas(spec.replicas, limits.maxReplicas),
    retries: validateRetries(spec),
    timeoutMs: validateTimeout(spec),
    inputs: spec.inputs.map((input, index) => {
      if (!DATASET_REFERENCE.test(input.reference)) {
        throw new InvalidArgumentError(`must be datasets:/<name>/<version> or datasets:/<name>@<tag>, got "${excerpt(input.reference)}"`, `spec.inputs[${index}].reference`);
      }
      return { reference: input.reference, mode: input.mode === DatasetInputMode.MOUNT ? 'MOUNT' : 'DOWNLOAD' };
    }),
    experimentId: checkedExperiment(spec.experimentId),
    priorityClass: limits.priorityClass,
  };
}

/** What admission sees of one replica: its named resources, and untyped GPUs apart for admission to place. */
export function admissionRequest(spec: StoredJobSpec): { request: Resources; anyGpu?: { count: number } } {
  const { cpuMillis, memoryBytes, gpus, gpuType } = spec.resources;
  const request: Record<string, number> = { cpu: cpuMillis, memory: memoryBytes };
  if (gpus > 0 && gpuType !== '') request[gpuResource(gpuType)] = gpus;
  return gpus > 0 && gpuType === '' ? { request, anyGpu: { count: gpus } } : { request };
}

function validateEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  let bytes = 0;
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new InvalidArgumentError(`"${excerpt(name)}" is not a variable name (letters, digits and _, not starting with a digit)`, 'spec.env');
    if (RESERVED_ENV.test(name)) throw new InvalidArgumentError(`${name} is set by the compute service (TRELLIS_*, MLFLOW_TRACKING_*, MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID)`, 'spec.env');
    checkNoNul(value, `spec.env[${name}]`);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (bytes > SPEC_LIMITS.envBytes) throw new InvalidArgumentError(`holds ${bytes} bytes of names and values; at most ${SPEC_LIMITS.envBytes}`, 'spec.env');
  return { ...env };
}

function validateResources(spec: JobSpec): StoredJobSpec['resources'] {
  const resources = spec.resources;
  const cpuMillis = Number(resources?.cpuMillis ?? 0n) || SPEC_LIMITS.defaultCpuMillis;
  const memoryBytes = Number(resources?.memoryBytes ?? 0n) || SPEC_LIMITS.defaultMemoryBytes;
  const gpus = resources?.gpus ?? 0;
  const gpuType = resources?.gpuType ?? '';
  if (cpuMillis < 1 || cpuMillis > SPEC_LIMITS.maxCpuMillis) throw new InvalidArgumentError(`must be 1 to ${SPEC_LIMITS.maxCpuMillis} millicores (0 for 1000)`, 'spec.resources.cpu_millis');
  if (memoryBytes < 1 || memoryBytes > SPEC_LIMITS.maxMemoryBytes) throw new InvalidArgumentError(`must be 1 to ${SPEC_LIMITS.maxMemoryBytes} bytes (0 for 1 GiB)`, 'spec.resources.memory_bytes');
  if (gpus < 0 || gpus > SPEC_LIMITS.maxGpus) throw new InvalidArgumentError(`must be 0 to ${SPEC_LIMITS.maxGpus}`, 'spec.resources.gpus');
  if (gpuType !== '' && !GPU_TYPE.test(gpuType)) throw new InvalidArgumentError('must be a GPU type as a cluster reports it (letters, digits, . _ -)', 'spec.resources.gpu_type');
  if (gpuType !== '' && gpus === 0) throw new InvalidArgumentError('names a GPU type for a job that asks for no GPU; set gpus too', 'spec.resources.gpu_type');
  return { cpuMillis, memoryBytes, gpus, gpuType };
}

function validateReplicas(replicas: number, max: number): number {
  const value = replicas === 0 ? 1 : replicas;
  if (value < 1 || value > max) throw new InvalidArgumentError(`must be 1 to ${max} (0 for 1; services.compute.maxReplicas)`, 'spec.replicas');
  return value;
}

function validateRetries(spec: JobSpec): StoredJobSpec['retries'] {
  const max = spec.retries?.maxRetries ?? 0;
  if (max < 0 || max > SPEC_LIMITS.maxRetries) throw new InvalidArgumentError(`must be 0 to ${SPEC_LIMITS.maxRetries}`, 'spec.retries.max_retries');
  const backoff = spec.retries?.backoff;
  const backoffMs = backoff ? durationMs(backoff, 'spec.retries.backoff') : SPEC_LIMITS.defaultBackoffMs;
  if (backoffMs > SPEC_LIMITS.maxBackoffMs) throw new InvalidArgumentError('must be at most a day', 'spec.retries.backoff');
  return { max, backoffMs };
}

function validateTimeout(spec: JobSpec): number {
  if (!spec.timeout) return 0;
  const ms = durationMs(spec.timeout, 'spec.timeout');
  if (ms <= 0 || ms > SPEC_LIMITS.maxTimeoutMs) throw new InvalidArgumentError('must be more than 0 and at most 30 days; leave it unset for none', 'spec.timeout');
  return ms;
}

function checkedExperiment(id: string): string {
  checkNoControlCharacters(id, 'spec.experiment_id');
  return id;
}
