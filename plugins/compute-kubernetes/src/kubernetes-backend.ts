import { BatchV1Api, CoreV1Api, type KubeConfig, Log, type V1Job, type V1Pod, Watch } from '@kubernetes/client-node';
import {
  type ComputeBackend,
  type ComputeCapacity,
  type InstanceHealth,
  type JobLogLine,
  JobNotFoundError,
  type JobSpec,
  type JobState,
  type JobStatus,
  type JobSummary,
  type ListJobsOptions,
  type LogOptions,
  type SubmitOptions,
  validateIdempotencyKey,
} from '@trellis/plugin-sdk';
import { clusterCapacity } from './capacity';
import type { ComputeKubernetesConfig } from './config';
import { isFinal, jobStatus } from './job-state';
import { JOB_NAME_LABEL, jobManifest, jobName, KEY_ANNOTATION, MANAGED_BY_TRELLIS, OWN_LABELS, replicasOf, serviceManifest } from './job-manifest';
import { Notifier } from './notifier';
import { followPodLogs, podLogLines } from './pod-logs';
import { ResourceCache } from './resource-cache';

/** The names `submit` gives Jobs; any other id is unknown without asking the cluster. */
const JOB_ID = /^trellis-[0-9a-f]{20}$/;
const LABEL_PART = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
/** How many jobs this instance cancelled (and so deleted) it still answers `cancelled` for. */
const CANCELLED_KEPT = 10_000;
const ORDER: Readonly<Record<JobState, number>> = { pending: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };

/**
 * Jobs as Kubernetes batch/v1 Jobs in one namespace. The job id is the Job's name, derived from the
 * idempotency key, so submitting again finds the Job (409 AlreadyExists). Status, watches and
 * followed logs come from one shared list+watch of Trellis's Jobs and one of their pods, not from a
 * request per job. A cancelled Job is deleted (Foreground, so its pods and Service go first); this
 * instance keeps answering `cancelled` for it afterwards.
 */
export class KubernetesComputeBackend implements ComputeBackend {
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly log: Log;
  private readonly jobs: ResourceCache<V1Job>;
  private readonly pods: ResourceCache<V1Pod>;
  private readonly closed = new AbortController();
  private readonly signal: AbortSignal;
  private readonly submitting = new Map<string, Promise<{ jobId: string }>>();
  private readonly cancelled = new Map<string, Date>();

  constructor(
    kc: KubeConfig,
    private readonly config: ComputeKubernetesConfig,
    hostSignal: AbortSignal,
  ) {
    this.batch = kc.makeApiClient(BatchV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.log = new Log(kc);
    this.signal = AbortSignal.any([hostSignal, this.closed.signal]);
    const watch = new Watch(kc);
    const namespace = config.namespace;
    this.jobs = new ResourceCache<V1Job>(
      { path: `/apis/batch/v1/namespaces/${namespace}/jobs`, labelSelector: MANAGED_BY_TRELLIS, list: () => this.batch.listNamespacedJob({ namespace, labelSelector: MANAGED_BY_TRELLIS }) },
      watch,
      config.retryDelayMs,
      this.signal,
    );
    this.pods = new ResourceCache<V1Pod>(
      { path: `/api/v1/namespaces/${namespace}/pods`, labelSelector: MANAGED_BY_TRELLIS, list: () => this.core.listNamespacedPod({ namespace, labelSelector: MANAGED_BY_TRELLIS }) },
      watch,
      config.retryDelayMs,
      this.signal,
    );
  }

  whyCannotRun(job: JobSpec): string | undefined {
    if (job.image === undefined && this.config.defaultImage === undefined) {
      return 'compute-kubernetes runs container images: give the job an image (its command then runs in it), or set defaultImage in the instance config to run commands in that image';
    }
    return undefined;
  }

  async capacity(): Promise<ComputeCapacity> {
    const [nodes, pods] = await Promise.all([this.core.listNode(), this.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' })]);
    return clusterCapacity(nodes.items, pods.items, this.config);
  }

  async submit(job: JobSpec, options: SubmitOptions): Promise<{ jobId: string }> {
    validateIdempotencyKey(options.idempotencyKey);
    const why = this.whyCannotRun(job);
    if (why) throw new TypeError(`image: ${why}`);
    const manifest = jobManifest(job, options.idempotencyKey, this.config);
    const key = options.idempotencyKey;
    const earlier = this.submitting.get(key);
    if (earlier) return earlier.catch(() => this.submit(job, options));
    const submitting = this.submitOnce(key, manifest, replicasOf(job)).finally(() => this.submitting.delete(key));
    this.submitting.set(key, submitting);
    return submitting;
  }

  async status(jobId: string): Promise<JobStatus> {
    const job = await this.find(jobId);
    return job ? this.statusOf(job) : this.cancelledStatus(jobId);
  }

  async list(options: ListJobsOptions): Promise<JobSummary[]> {
    const wanted = Object.entries(options.labels);
    if (wanted.some(([key, value]) => !key || !LABEL_PART.test(key) || !LABEL_PART.test(value))) return [];
    const labelSelector = [MANAGED_BY_TRELLIS, ...wanted.map(([key, value]) => `${key}=${value}`)].join(',');
    const [jobs] = await Promise.all([this.batch.listNamespacedJob({ namespace: this.config.namespace, labelSelector }), this.pods.ready()]);
    return Promise.all(
      jobs.items.map(async (job) => ({
        ...(await this.statusOf(job)),
        labels: Object.fromEntries(Object.entries(job.metadata?.labels ?? {}).filter(([key]) => !OWN_LABELS.includes(key))),
      })),
    );
  }

  async *watch(jobId: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<JobStatus> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.signal]) : this.signal;
    const changes = new Notifier();
    const unsubscribe = [this.jobs.onChange(() => changes.notify()), this.pods.onChange(() => changes.notify())];
    try {
      let last = await this.status(jobId);
      yield last;
      while (ORDER[last.state] < 2 && !signal.aborted) {
        await changes.next(signal);
        if (signal.aborted) return;
        // A Job deleted right after it ended (ttlSecondsAfterFinished: 0) ends the watch in that final state.
        const job = this.jobs.get(jobId) ?? this.jobs.deleted(jobId);
        const now = job && (isFinal(job) || this.jobs.get(jobId)) ? await this.statusOf(job) : { jobId, state: 'cancelled' as const, message: 'cancelled: the Job was deleted', finishedAt: new Date() };
        if (ORDER[now.state] <= ORDER[last.state]) continue;
        last = now;
        yield now;
      }
    } finally {
      for (const off of unsubscribe) off();
    }
  }

  async cancel(jobId: string): Promise<void> {
    const job = await this.find(jobId);
    if (!job) {
      this.cancelledStatus(jobId);
      return;
    }
    if (isFinal(job)) return;
    this.cancelled.set(jobId, new Date());
    if (this.cancelled.size > CANCELLED_KEPT) this.cancelled.delete(this.cancelled.keys().next().value as string);
    // Foreground: the Job stays (with a deletionTimestamp) until its pods and its Service, which it owns, are gone.
    await this.batch.deleteNamespacedJob({ name: jobId, namespace: this.config.namespace, propagationPolicy: 'Foreground' }).catch(unless(404));
  }

  async *logs(jobId: string, options: LogOptions = {}): AsyncGenerator<JobLogLine> {
    const job = await this.find(jobId);
    if (!job) {
      this.cancelledStatus(jobId);
      return;
    }
    const signal = options.signal ? AbortSignal.any([options.signal, this.signal]) : this.signal;
    const namespace = this.config.namespace;
    if (!options.follow) {
      const pods = await this.core.listNamespacedPod({ namespace, labelSelector: `${JOB_NAME_LABEL}=${jobId}` });
      yield* podLogLines(this.core, namespace, pods.items);
      return;
    }
    await this.pods.ready();
    yield* followPodLogs(this.log, namespace, {
      pods: () => this.podsOf(jobId),
      done: () => this.logsComplete(jobId),
      onChange: (listener) => {
        const off = [this.jobs.onChange(listener), this.pods.onChange(listener)];
        return () => off.forEach((unsubscribe) => unsubscribe());
      },
      signal,
    });
  }

  async health(): Promise<InstanceHealth> {
    await this.batch.listNamespacedJob({ namespace: this.config.namespace, labelSelector: MANAGED_BY_TRELLIS, limit: 1 });
    return { ok: true };
  }

  close(): void {
    this.closed.abort();
  }

  private async submitOnce(key: string, manifest: V1Job, replicas: number): Promise<{ jobId: string }> {
    const name = jobName(key);
    if (this.cancelled.has(name)) return { jobId: name };
    const namespace = this.config.namespace;
    // Watching before the first create, so even a Job that ends and is deleted at once is seen ending.
    await Promise.all([this.jobs.ready(), this.pods.ready()]);
    let job: V1Job;
    try {
      job = await this.batch.createNamespacedJob({ namespace, body: manifest });
      this.jobs.offer(job);
    } catch (error) {
      if (httpCode(error) !== 409) throw new Error(refusal('Job', error), { cause: error });
      job = await this.batch.readNamespacedJob({ name, namespace });
      const existing = job.metadata?.annotations?.[KEY_ANNOTATION];
      if (existing !== key) throw new Error(`Job ${name} exists in namespace ${namespace} for another idempotency key (${JSON.stringify(existing)}); it was not made by this submission`, { cause: error });
    }
    if (replicas > 1) {
      await this.core.createNamespacedService({ namespace, body: serviceManifest(job, this.config.masterPort) }).catch((error: unknown) => {
        if (httpCode(error) !== 409) throw new Error(refusal('Service', error), { cause: error });
      });
    }
    return { jobId: name };
  }

  /** The Job, from the shared cache or (when the cache has not seen it yet) the API; undefined when it does not exist. */
  private async find(jobId: string): Promise<V1Job | undefined> {
    if (!JOB_ID.test(jobId)) return undefined;
    await this.jobs.ready();
    // A Job deleted once it ended (ttlSecondsAfterFinished) keeps its final state while the cache remembers it.
    const cached = this.jobs.get(jobId) ?? this.jobs.deleted(jobId);
    if (cached && (this.jobs.get(jobId) || isFinal(cached))) return cached;
    try {
      const job = await this.batch.readNamespacedJob({ name: jobId, namespace: this.config.namespace });
      if (job.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'trellis') return undefined;
      this.jobs.offer(job);
      return job;
    } catch (error) {
      if (httpCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** The status of a job this instance cancelled and so deleted; JobNotFoundError for any other missing job. */
  private cancelledStatus(jobId: string): JobStatus {
    const at = this.cancelled.get(jobId);
    if (at) return { jobId, state: 'cancelled', message: 'cancelled: the Job was deleted', finishedAt: at };
    throw new JobNotFoundError(jobId);
  }

  private async statusOf(job: V1Job): Promise<JobStatus> {
    await this.pods.ready();
    const name = job.metadata?.name ?? '';
    const status = jobStatus(job, this.podsOf(name));
    if (status.state !== 'failed' || status.exitCode !== undefined) return status;
    // The pods' watch may trail the Job's: read the failed pod once to give its exit code.
    const pods = await this.core.listNamespacedPod({ namespace: this.config.namespace, labelSelector: `${JOB_NAME_LABEL}=${name}` });
    return jobStatus(job, pods.items);
  }

  /**
   * Whether a followed log has all it will get: the Job is gone or being deleted, or it ended and
   * the pods' watch has caught up with that (each pod ended or going, all replicas there on success).
   */
  private logsComplete(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job || job.metadata?.deletionTimestamp) return true;
    if (!isFinal(job)) return false;
    const pods = this.podsOf(jobId);
    const succeeded = job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
    return pods.length >= (succeeded ? (job.spec?.completions ?? 1) : 0) && pods.every((pod) => pod.metadata?.deletionTimestamp || ['Succeeded', 'Failed'].includes(pod.status?.phase ?? ''));
  }

  private podsOf(jobId: string): V1Pod[] {
    return this.pods.values().filter((pod) => pod.metadata?.labels?.[JOB_NAME_LABEL] === jobId);
  }
}

/** The HTTP status of a client error (ApiException's `code`). */
export function httpCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function unless(code: number) {
  return (error: unknown) => {
    if (httpCode(error) !== code) throw error;
  };
}

/** What the API server refused and why (its Status message), for an Error. */
function refusal(kind: string, error: unknown): string {
  const body = (error as { body?: unknown }).body;
  const status = typeof body === 'string' ? safeJson(body) : body;
  const message = (status as { message?: string } | undefined)?.message ?? (error as Error).message;
  return `Kubernetes refused the ${kind} (${httpCode(error) ?? 'no HTTP status'}): ${message}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
