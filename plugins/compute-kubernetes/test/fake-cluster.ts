import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { KubernetesObject, V1Container, V1EnvVar, V1Job, V1JobCondition, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { podRequests } from '../src/capacity';
import { parseQuantity } from '../src/quantity';
import type { FakeStore, Resource } from './fake-store';

/** A node of the fake cluster. */
export interface FakeNodeOptions {
  name: string;
  cpus: number;
  memoryBytes: number;
  /** GPUs it advertises as `gpuResource` (default nvidia.com/gpu). */
  gpus?: number;
  gpuResource?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
}

/** How the fake's controllers behave. */
export interface FakeClusterOptions {
  /** 'admit': a fake Kueue unsuspends every suspended Job that has a queue-name label; 'hold': it waits for `admitQueued()`. */
  kueue?: 'admit' | 'hold';
  /** Images the fake kubelet can pull; others stay in ImagePullBackOff. Default: every image. */
  pullable?: (image: string) => boolean;
}

const JOB_NAME = 'batch.kubernetes.io/job-name';
const CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
const QUEUE_NAME = 'kueue.x-k8s.io/queue-name';

/** One line a container wrote, with when. */
interface LogLine {
  time: Date;
  text: string;
}

/** A running container: its process and output. */
interface Container {
  process?: ChildProcess;
  lines: LogLine[];
  /** Called on every new line and at exit. */
  readonly listeners: Set<() => void>;
  exited: boolean;
}

/**
 * The controllers of the fake: the Job controller (Indexed and NonIndexed, backoffLimit, suspend),
 * a scheduler (CPU, memory and extended resources, nodeSelector, taints), a kubelet that runs each
 * container's command as a local `sh -c` process (the image is ignored), the garbage collector
 * (ownerReferences, Foreground and Background deletion), the TTL-after-finished controller, and an
 * optional Kueue. They run after every change until nothing changes.
 */
export class FakeCluster {
  private readonly containers = new Map<string, Container>();
  private readonly ttlTimers = new Set<NodeJS.Timeout>();
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly store: FakeStore,
    private readonly options: FakeClusterOptions,
  ) {
    store.onChange(() => this.schedule());
  }

  /** Unsuspends every Job waiting in a Kueue queue (the 'hold' mode). */
  admitQueued(): void {
    for (const job of this.store.list<V1Job>({ resource: 'jobs' })) if (job.metadata?.labels?.[QUEUE_NAME] && job.spec?.suspend) this.store.update('jobs', { ...job, spec: { ...job.spec, suspend: false } });
  }

  /** The container of a pod, for its log. */
  container(namespace: string, pod: string): Container | undefined {
    return this.containers.get(`${namespace}/${pod}`);
  }

  /** Deletes `object` as the API does for a DELETE with `propagationPolicy`. */
  delete(resource: Resource, object: KubernetesObject, propagationPolicy: 'Foreground' | 'Background' | 'Orphan'): void {
    if (object.metadata?.deletionTimestamp) return;
    if (resource === 'pods') return this.deletePod(object as V1Pod);
    if (propagationPolicy === 'Foreground') {
      this.store.update(resource, { ...object, metadata: { ...object.metadata, deletionTimestamp: new Date(), finalizers: ['foregroundDeletion'] } });
      return;
    }
    if (propagationPolicy === 'Orphan') for (const dependent of this.dependents(object)) this.store.update(dependent.resource, { ...dependent.object, metadata: { ...dependent.object.metadata, ownerReferences: [] } });
    this.store.remove(resource, object);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.ttlTimers) clearTimeout(timer);
    const exits: Promise<unknown>[] = [];
    for (const container of this.containers.values()) {
      if (container.exited || !container.process) continue;
      exits.push(new Promise((resolve) => container.listeners.add(() => container.exited && resolve(undefined))));
      kill(container.process, 'SIGKILL');
    }
    await Promise.all(exits);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.reconcile();
    });
  }

  private reconcile(): void {
    this.collectGarbage();
    if (this.options.kueue === 'admit') this.admitQueued();
    for (const job of this.store.list<V1Job>({ resource: 'jobs' })) this.syncJob(job);
    this.schedulePods();
    for (const pod of this.store.list<V1Pod>({ resource: 'pods' })) this.runPod(pod);
  }

  /** Dependents of a deleted owner go (Background), a Foreground-deleting owner goes once its dependents are gone. */
  private collectGarbage(): void {
    const uids = new Set<string>();
    for (const resource of ['jobs', 'services', 'pods'] as const) for (const object of this.store.list({ resource })) uids.add(object.metadata?.uid ?? '');
    for (const resource of ['pods', 'services'] as const) {
      for (const object of this.store.list({ resource })) {
        const owners = object.metadata?.ownerReferences ?? [];
        const owner = owners.length > 0 ? this.owner(owners[0].uid) : undefined;
        if (owners.length > 0 && (!uids.has(owners[0].uid) || owner?.metadata?.deletionTimestamp)) {
          if (resource === 'pods') this.deletePod(object as V1Pod);
          else this.store.remove(resource, object);
        }
      }
    }
    for (const job of this.store.list<V1Job>({ resource: 'jobs' })) {
      if (job.metadata?.finalizers?.includes('foregroundDeletion') && this.dependents(job).length === 0) this.store.remove('jobs', job);
    }
  }

  private owner(uid: string): KubernetesObject | undefined {
    return this.store.list({ resource: 'jobs' }).find((job) => job.metadata?.uid === uid);
  }

  private dependents(owner: KubernetesObject): { resource: Resource; object: KubernetesObject }[] {
    const uid = owner.metadata?.uid;
    return (['pods', 'services'] as const).flatMap((resource) =>
      this.store
        .list({ resource })
        .filter((object) => object.metadata?.ownerReferences?.some((reference) => reference.uid === uid))
        .map((object) => ({ resource, object })),
    );
  }

  private syncJob(job: V1Job): void {
    const spec = job.spec;
    if (!spec || job.metadata?.deletionTimestamp || isFinished(job)) return;
    const conditions = [...(job.status?.conditions ?? [])];
    const pods = this.store.list<V1Pod>({ resource: 'pods', namespace: job.metadata?.namespace, labelSelector: `${CONTROLLER_UID}=${job.metadata?.uid}` });
    const status = { ...job.status };
    if (spec.suspend) {
      for (const pod of pods) this.deletePod(pod);
      if (!hasCondition(job, 'Suspended')) this.store.update('jobs', { ...job, status: { ...status, active: 0, conditions: setCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended') } });
      return;
    }
    if (hasCondition(job, 'Suspended')) setCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed');
    const completions = spec.completions ?? 1;
    const indexed = spec.completionMode === 'Indexed';
    const live = pods.filter((pod) => !pod.metadata?.deletionTimestamp);
    const failed = pods.filter((pod) => pod.status?.phase === 'Failed').length;
    const succeeded = live.filter((pod) => pod.status?.phase === 'Succeeded');
    const active = live.filter((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed');
    const doneIndexes = new Set(succeeded.map((pod) => pod.metadata?.annotations?.[COMPLETION_INDEX]));
    status.startTime ??= new Date();
    status.failed = failed;
    status.succeeded = indexed ? doneIndexes.size : succeeded.length;
    status.active = active.length;
    status.ready = active.filter((pod) => pod.status?.phase === 'Running').length;
    if (indexed) status.completedIndexes = [...doneIndexes].sort((a, b) => Number(a) - Number(b)).join(',') || undefined;
    if (failed > (spec.backoffLimit ?? 6)) {
      for (const pod of active) this.deletePod(pod);
      const message = 'Job has reached the specified backoff limit';
      setCondition(conditions, 'FailureTarget', 'True', 'BackoffLimitExceeded', message);
      setCondition(conditions, 'Failed', 'True', 'BackoffLimitExceeded', message);
    } else if ((status.succeeded ?? 0) >= completions) {
      status.completionTime = new Date();
      setCondition(conditions, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
      setCondition(conditions, 'Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods');
    } else {
      const running = new Set(active.map((pod) => pod.metadata?.annotations?.[COMPLETION_INDEX]));
      const wanted = Math.min(spec.parallelism ?? 1, completions - (status.succeeded ?? 0)) - active.length;
      for (let index = 0, made = 0; made < wanted && index < (indexed ? completions : Number.MAX_SAFE_INTEGER); index++) {
        if (indexed && (running.has(String(index)) || doneIndexes.has(String(index)))) continue;
        this.createPod(job, indexed ? index : undefined);
        made++;
      }
    }
    status.conditions = conditions;
    if (JSON.stringify(status) !== JSON.stringify(job.status ?? {})) {
      this.store.update('jobs', { ...job, status });
      if (isFinished({ status }) && spec.ttlSecondsAfterFinished !== undefined) this.expireAfter(job, spec.ttlSecondsAfterFinished);
    }
  }

  private expireAfter(job: V1Job, seconds: number): void {
    const timer = setTimeout(() => {
      this.ttlTimers.delete(timer);
      const current = this.store.get('jobs', job.metadata?.namespace, job.metadata?.name ?? '');
      if (current && current.metadata?.uid === job.metadata?.uid) this.delete('jobs', current, 'Background');
    }, seconds * 1000);
    this.ttlTimers.add(timer);
  }

  private createPod(job: V1Job, index: number | undefined): void {
    const template = structuredClone(job.spec?.template ?? {});
    const name = job.metadata?.name ?? '';
    const labels: Record<string, string> = { ...template.metadata?.labels, [JOB_NAME]: name, 'job-name': name, [CONTROLLER_UID]: job.metadata?.uid ?? '', 'controller-uid': job.metadata?.uid ?? '' };
    const annotations: Record<string, string> = { ...template.metadata?.annotations };
    const podSpec = template.spec ?? { containers: [] };
    if (index !== undefined) {
      labels[COMPLETION_INDEX] = String(index);
      annotations[COMPLETION_INDEX] = String(index);
      if (podSpec.subdomain) podSpec.hostname = `${name}-${index}`;
      for (const container of podSpec.containers) container.env = [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } }, ...(container.env ?? [])];
    }
    for (const container of podSpec.containers) {
      const resources = (container.resources ??= {});
      resources.requests = { ...resources.limits, ...resources.requests };
    }
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-${index ?? ''}${index === undefined ? '' : '-'}${randomBytes(3).toString('hex').slice(0, 5)}`,
        namespace: job.metadata?.namespace,
        labels,
        annotations,
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: podSpec,
      status: { phase: 'Pending', conditions: [] },
    };
    this.store.create('pods', pod);
  }

  /** Binds pending pods to nodes with room (first fit), or marks them Unschedulable saying why. */
  private schedulePods(): void {
    const nodes = this.store.list<V1Node>({ resource: 'nodes' });
    for (const pod of this.store.list<V1Pod>({ resource: 'pods' })) {
      if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp) continue;
      const wants = podRequests(pod);
      const reasons = new Map<string, number>();
      const node = nodes.find((candidate) => {
        const reason = this.whyNot(candidate, pod, wants);
        if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        return !reason;
      });
      if (node) {
        this.store.update('pods', { ...pod, spec: { ...pod.spec, nodeName: node.metadata?.name }, status: { ...pod.status, conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date() }] } });
        continue;
      }
      const message = `0/${nodes.length} nodes are available: ${[...reasons].map(([reason, n]) => `${n} ${reason}`).join(', ')}.`;
      const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
      if (scheduled?.message !== message) {
        this.store.update('pods', { ...pod, status: { ...pod.status, conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: new Date() }] } });
      }
    }
  }

  private whyNot(node: V1Node, pod: V1Pod, wants: Record<string, number>): string | undefined {
    const labels = node.metadata?.labels ?? {};
    if (Object.entries(pod.spec?.nodeSelector ?? {}).some(([key, value]) => labels[key] !== value)) return "node(s) didn't match Pod's node affinity/selector";
    for (const taint of node.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule') continue;
      const tolerated = (pod.spec?.tolerations ?? []).some(
        (t) => (t.key === undefined || t.key === taint.key) && (t.operator === 'Exists' || t.value === taint.value) && (t.effect === undefined || t.effect === taint.effect),
      );
      if (!tolerated) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
    }
    const used: Record<string, number> = {};
    for (const other of this.store.list<V1Pod>({ resource: 'pods', fieldSelector: `spec.nodeName=${node.metadata?.name}` })) {
      if (other.status?.phase === 'Succeeded' || other.status?.phase === 'Failed') continue;
      for (const [name, amount] of Object.entries(podRequests(other))) used[name] = (used[name] ?? 0) + amount;
    }
    for (const [name, amount] of Object.entries(wants)) {
      const allocatable = parseQuantity(node.status?.allocatable?.[name] ?? '0');
      if ((used[name] ?? 0) + amount > allocatable + 1e-9) return `Insufficient ${name}`;
    }
    return undefined;
  }

  /** The kubelet: starts a bound pod's container as `sh -c`, keeps its output, reports its exit. */
  private runPod(pod: V1Pod): void {
    const id = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (!pod.spec?.nodeName || this.containers.has(id) || pod.metadata?.deletionTimestamp) return;
    const spec = pod.spec.containers[0];
    if (this.options.pullable && !this.options.pullable(spec.image ?? '')) {
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason !== 'ImagePullBackOff') {
        const state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image}"` } };
        this.store.update('pods', { ...pod, status: { ...pod.status, containerStatuses: [{ name: spec.name, image: spec.image ?? '', imageID: '', ready: false, restartCount: 0, state }] } });
      }
      return;
    }
    const container: Container = { lines: [], listeners: new Set(), exited: false };
    this.containers.set(id, container);
    const env = containerEnv(pod, spec);
    const words = [...(spec.command ?? []), ...(spec.args ?? [])].map((word) => expand(word, env));
    const startedAt = new Date();
    const child = spawn('sh', ['-c', `exec ${words.map(shellQuote).join(' ')}`], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTNAME: pod.spec.hostname ?? pod.metadata?.name ?? '', ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    container.process = child;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const text of parts) container.lines.push({ time: new Date(), text });
        for (const listener of container.listeners) listener();
      });
      stream.on('end', () => partial && container.lines.push({ time: new Date(), text: partial }));
    }
    const running = { running: { startedAt } };
    const ready = [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'True', lastTransitionTime: startedAt },
    ];
    this.store.update('pods', {
      ...pod,
      status: { ...pod.status, phase: 'Running', podIP: '127.0.0.1', startTime: startedAt, conditions: ready, containerStatuses: [{ name: spec.name, image: spec.image ?? '', imageID: '', ready: true, restartCount: 0, started: true, state: running }] },
    });
    child.on('close', (code, signal) => {
      container.exited = true;
      for (const listener of container.listeners) listener();
      if (this.stopped) return;
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      const current = this.store.get<V1Pod>('pods', pod.metadata?.namespace, pod.metadata?.name ?? '');
      if (!current) return;
      if (current.metadata?.deletionTimestamp) return this.store.remove('pods', current);
      const terminated = { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: new Date() } };
      this.store.update('pods', {
        ...current,
        status: { ...current.status, phase: exitCode === 0 ? 'Succeeded' : 'Failed', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: spec.name, image: spec.image ?? '', imageID: '', ready: false, restartCount: 0, state: terminated }] },
      });
    });
  }

  /** Marks the pod deleted and stops its process; the pod goes once the process has exited. */
  private deletePod(pod: V1Pod): void {
    const current = this.store.get<V1Pod>('pods', pod.metadata?.namespace, pod.metadata?.name ?? '');
    if (!current || current.metadata?.deletionTimestamp) return;
    const container = this.containers.get(`${current.metadata?.namespace}/${current.metadata?.name}`);
    if (!container?.process || container.exited) return this.store.remove('pods', current);
    this.store.update('pods', { ...current, metadata: { ...current.metadata, deletionTimestamp: new Date() } });
    kill(container.process, 'SIGTERM');
  }
}

export function isFinished(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some((condition) => (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True');
}

function hasCondition(job: V1Job, type: string): boolean {
  return (job.status?.conditions ?? []).some((condition) => condition.type === type && condition.status === 'True');
}

function setCondition(conditions: V1JobCondition[], type: string, status: string, reason: string, message: string): V1JobCondition[] {
  const now = new Date();
  const condition = { type, status, reason, message, lastProbeTime: now, lastTransitionTime: now };
  const at = conditions.findIndex((existing) => existing.type === type);
  if (at >= 0) conditions[at] = condition;
  else conditions.push(condition);
  return conditions;
}

/** The container's environment as the kubelet gives it: values with $(VAR) expanded, the downward API resolved. */
function containerEnv(pod: V1Pod, container: V1Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) env[variable.name] = variable.valueFrom ? fieldValue(pod, variable) : expand(variable.value ?? '', env);
  return env;
}

function fieldValue(pod: V1Pod, variable: V1EnvVar): string {
  const path = variable.valueFrom?.fieldRef?.fieldPath ?? '';
  const mapped = /^metadata\.(annotations|labels)\['([^']+)'\]$/.exec(path);
  if (mapped) return pod.metadata?.[mapped[1] as 'annotations' | 'labels']?.[mapped[2]] ?? '';
  const simple: Record<string, string | undefined> = { 'metadata.name': pod.metadata?.name, 'metadata.namespace': pod.metadata?.namespace, 'spec.nodeName': pod.spec?.nodeName, 'status.podIP': '127.0.0.1' };
  if (!(path in simple)) throw new Error(`the fake kubelet does not resolve fieldRef ${path}`);
  return simple[path] ?? '';
}

/** Kubernetes' $(VAR) expansion of command, args and env values: `$$` is a literal `$`, an unknown $(VAR) stays as it is. */
function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? whole)));
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // the process group is gone already
  }
}

/** A Service object's selector, for specs. */
export type FakeService = V1Service;
