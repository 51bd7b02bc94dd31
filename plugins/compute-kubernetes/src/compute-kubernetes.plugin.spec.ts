import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import { checkManifest, type ComputeBackend, isSecretSchema, type JobSpec, type JobStatus, PluginConfigError } from '@trellis/plugin-sdk';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
import { eventually } from '@trellis/testing';
import packageJson from '../package.json';
import { type FakeKubernetes, type FakeKubernetesOptions, startFakeKubernetes } from '../test/fake-kubernetes';
import { computeKubernetesConfig } from './config';
import plugin from './index';
import { jobName } from './job-manifest';

const GIB = 2 ** 30;
const resources = { cpus: 0.5, memoryBytes: 2 ** 26 };
const job = (name: string, ...command: string[]): JobSpec => ({ name, image: 'busybox:1.36', command, resources });
const teslaNode = { name: 'gpu-a', cpus: 8, memoryBytes: 32 * GIB, gpus: 2, labels: { 'nvidia.com/gpu.product': 'tesla', 'nvidia.com/gpu.memory': '16384' }, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' as const }] };

let dir: string;
const fakes: FakeKubernetes[] = [];
const backends: ComputeBackend[] = [];
let keys = 0;
const key = () => `spec-${process.pid}-${++keys}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compute-kubernetes-'));
});

afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.close?.();
  for (const fake of fakes.splice(0)) {
    await fake.stop();
    expect(fake.validationFailures).toEqual([]);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cluster(options: FakeKubernetesOptions = {}, config: object = {}) {
  const fake = await startFakeKubernetes(options);
  fakes.push(fake);
  const compute = await createPluginInstance(plugin, { kubeconfig: fake.kubeconfig, namespace: 'ml', ...config });
  backends.push(compute);
  return { fake, compute };
}

async function finalStatus(compute: ComputeBackend, jobId: string): Promise<JobStatus> {
  let last: JobStatus | undefined;
  for await (const status of compute.watch(jobId)) last = status;
  if (!last) throw new Error('the watch gave nothing');
  return last;
}

/** Waits until the backend's watch says the job runs. */
async function running(compute: ComputeBackend, jobId: string): Promise<void> {
  for await (const status of compute.watch(jobId)) if (status.state === 'running') return;
  throw new Error(`job ${jobId} ended without running`);
}

/** Waits until the fake's objects satisfy `predicate`, checking again at each change of them. */
async function until(fake: FakeKubernetes, predicate: () => boolean): Promise<void> {
  for (;;) {
    const next = fake.changed();
    if (predicate()) return;
    await next;
  }
}

async function lines(compute: ComputeBackend, jobId: string) {
  const all = [];
  for await (const line of compute.logs(jobId)) all.push(line);
  return all;
}

describe('compute-kubernetes config', () => {
  it('declares a manifest the host loads, of the kind its package.json names', () => {
    expect(checkManifest(plugin.manifest)).toBeUndefined();
    expect(plugin.manifest).toMatchObject({ kind: 'compute', id: 'compute-kubernetes' });
    expect(packageJson.trellis.kind).toBe(plugin.manifest.kind);
  });

  it('marks kubeconfig as a secret, so the host stores a reference and never shows it', () => {
    expect(isSecretSchema(computeKubernetesConfig.shape.kubeconfig.unwrap())).toBe(true);
  });

  it.each([
    ['a namespace that is no DNS label', { namespace: 'ML_jobs' }, /namespace: a DNS label/],
    ['an unknown key', { namespaces: 'ml' }, /namespaces/],
    ['a GPU resource that is no resource name', { gpuResource: 'nvidia gpu' }, /gpuResource/],
    ['an Exists toleration with a value', { gpuTolerations: [{ key: 'a', operator: 'Exists', value: 'b' }] }, /Exists toleration has no value/],
  ])('refuses %s, naming the key', async (_why, config, message) => {
    await expect(createPluginInstance(plugin, { kubeconfig: 'apiVersion: v1', ...config })).rejects.toThrow(PluginConfigError);
    await expect(createPluginInstance(plugin, { kubeconfig: 'apiVersion: v1', ...config })).rejects.toThrow(message);
  });

  it('refuses a context the kubeconfig does not have, naming those it has', async () => {
    const fake = await startFakeKubernetes();
    fakes.push(fake);
    await expect(createPluginInstance(plugin, { kubeconfig: fake.kubeconfig, context: 'prod' })).rejects.toThrow(/context: the kubeconfig has no context "prod" \(it has fake\)/);
  });

  it('reads the kubeconfig a file: reference gives, and answers health through it', async () => {
    const fake = await startFakeKubernetes();
    fakes.push(fake);
    const path = join(dir, 'kubeconfig');
    await writeFile(path, fake.kubeconfig);
    const { readFile } = await import('node:fs/promises');
    const compute = await createPluginInstance(plugin, { kubeconfig: await readFile(path, 'utf8'), context: 'fake' });
    backends.push(compute);
    expect(await compute.health?.()).toEqual({ ok: true });
  });
});

describe('compute-kubernetes jobs', () => {
  it('runs replicas as an Indexed Job with a headless Service: each pod gets its rank, the world size and replica 0 as master', async () => {
    const { fake, compute } = await cluster({}, { masterPort: 23456 });
    const script = 'echo "rank=$RANK index=$TRELLIS_REPLICA_INDEX world=$WORLD_SIZE master=$MASTER_ADDR:$MASTER_PORT id=$TRELLIS_BACKEND_JOB_ID literal=$LITERAL"';
    const { jobId } = await compute.submit({ ...job('ddp', 'sh', '-c', script), replicas: 2, env: { LITERAL: '$(HOME)' } }, { idempotencyKey: key() });
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'succeeded', exitCode: 0 });

    const [body] = fake.created.jobs;
    expect(body.spec).toMatchObject({ completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimit: 0, template: { spec: { restartPolicy: 'Never', subdomain: jobId } } });
    const [service] = fake.created.services;
    expect(service.metadata).toMatchObject({ name: jobId, ownerReferences: [{ kind: 'Job', name: jobId }] });
    expect(service.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: { 'batch.kubernetes.io/job-name': jobId }, ports: [{ port: 23456 }] });

    const output = (await lines(compute, jobId)).map((l) => [l.replica, l.line]);
    const expected = (rank: number) => `rank=${rank} index=${rank} world=2 master=${jobId}-0.${jobId}:23456 id=${jobId} literal=$(HOME)`;
    expect(output).toEqual([
      [0, expected(0)],
      [1, expected(1)],
    ]);
  });

  it('asks for GPUs as the configured resource on nodes of their type, tolerating the GPU taint, with CPU and memory requests', async () => {
    const { fake, compute } = await cluster({ nodes: [teslaNode] });
    const { jobId } = await compute.submit({ ...job('gpu', 'true'), resources: { cpus: 1.5, memoryBytes: GIB, gpus: { count: 2, type: 'tesla' } } }, { idempotencyKey: key() });
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'succeeded' });
    const pod = fake.created.jobs[0].spec?.template.spec;
    expect(pod?.containers[0].resources).toEqual({ requests: { cpu: '1500m', memory: String(GIB), 'nvidia.com/gpu': '2' }, limits: { memory: String(GIB), 'nvidia.com/gpu': '2' } });
    expect(pod?.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'tesla' });
    expect(pod?.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it("uses a GPU type's own selector, tolerations and resource from the config, and picks the smallest type with the memory asked", async () => {
    const gpuTypes = {
      small: { resource: 'nvidia.com/mig-1g.10gb', memoryBytes: 10 * GIB, nodeSelector: { pool: 'mig' }, tolerations: [{ key: 'mig', operator: 'Exists' }] },
      big: { memoryBytes: 80 * GIB, nodeSelector: { pool: 'h100' } },
    };
    const node = { name: 'mig-a', cpus: 8, memoryBytes: 32 * GIB, gpus: 7, gpuResource: 'nvidia.com/mig-1g.10gb', labels: { pool: 'mig' }, taints: [{ key: 'mig', effect: 'NoSchedule' as const }] };
    const { fake, compute } = await cluster({ nodes: [node] }, { gpuTypes });
    const { jobId } = await compute.submit({ ...job('mig', 'true'), resources: { ...resources, gpus: { count: 1, minMemoryBytes: 8 * GIB } } }, { idempotencyKey: key() });
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'succeeded' });
    const pod = fake.created.jobs[0].spec?.template.spec;
    expect(pod?.containers[0].resources?.limits).toMatchObject({ 'nvidia.com/mig-1g.10gb': '1' });
    expect(pod?.nodeSelector).toEqual({ pool: 'mig' });
    expect(pod?.tolerations).toEqual([{ key: 'mig', operator: 'Exists' }]);
    await expect(compute.submit({ ...job('huge', 'true'), resources: { ...resources, gpus: { count: 1, minMemoryBytes: 100 * GIB } } }, { idempotencyKey: key() })).rejects.toThrow(/resources.gpus.minMemoryBytes/);
  });

  it("keeps a job that fits no node pending, with the scheduler's reason", async () => {
    const { compute } = await cluster({ nodes: [teslaNode] });
    const { jobId } = await compute.submit({ ...job('too-big', 'true'), resources: { ...resources, gpus: { count: 4, type: 'tesla' } } }, { idempotencyKey: key() });
    const status = await eventually(async () => {
      const now = await compute.status(jobId);
      expect(now.message).toBeDefined();
      return now;
    });
    expect(status).toMatchObject({ state: 'pending', message: expect.stringMatching(/^replica 0: Unschedulable: 0\/1 nodes are available: 1 Insufficient nvidia.com\/gpu/) });
  });

  it('keeps a job whose image cannot be pulled pending, saying so', async () => {
    const { compute } = await cluster({ pullable: (image) => image !== 'no-such/image:1' });
    const { jobId } = await compute.submit({ ...job('bad-image', 'true'), image: 'no-such/image:1' }, { idempotencyKey: key() });
    const status = await eventually(async () => {
      const now = await compute.status(jobId);
      expect(now.message).toBeDefined();
      return now;
    });
    expect(status).toEqual({ jobId, state: 'pending', message: 'replica 0: ImagePullBackOff: Back-off pulling image "no-such/image:1"' });
  });

  it('reports the exit code and replica of the failed pod', async () => {
    const { compute } = await cluster();
    const { jobId } = await compute.submit({ ...job('half-fails', 'sh', '-c', 'if [ "$RANK" = 1 ]; then exit 7; fi; sleep 3600'), replicas: 2 }, { idempotencyKey: key() });
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'failed', exitCode: 7, message: expect.stringContaining('replica 1 exited with code 7') });
  });

  it('submits again with the same key from another instance as the same job, creating nothing new', async () => {
    const { fake, compute } = await cluster();
    const idempotencyKey = key();
    const spec = { ...job('once', 'sleep', '3600'), replicas: 2 };
    const first = await compute.submit(spec, { idempotencyKey });
    const other = await createPluginInstance(plugin, { kubeconfig: fake.kubeconfig, namespace: 'ml' });
    backends.push(other);
    expect(await other.submit(spec, { idempotencyKey })).toEqual(first);
    expect(first.jobId).toBe(jobName(idempotencyKey));
    expect(fake.jobs('ml')).toHaveLength(1);
    expect(fake.services('ml')).toHaveLength(1);
    expect(fake.requests.get('create jobs')).toBe(2);
    expect(fake.jobs('ml')[0].metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'trellis', 'trellis.dev/idempotency-key-hash': first.jobId.slice('trellis-'.length) });
  });

  it('cancels by deleting the Job in the foreground: its pods stop and go, and the Service with them', async () => {
    const { fake, compute } = await cluster();
    const { jobId } = await compute.submit({ ...job('long', 'sleep', '3600'), replicas: 2 }, { idempotencyKey: key() });
    await running(compute, jobId);
    expect(fake.pods('ml')).toHaveLength(2);
    await compute.cancel(jobId);
    await until(fake, () => fake.jobs('ml').length === 0);
    expect(fake.pods('ml')).toEqual([]);
    expect(fake.services('ml')).toEqual([]);
    expect(await compute.status(jobId)).toMatchObject({ jobId, state: 'cancelled' });
  });

  it('follows the watch through a dropped connection and a 410 Gone by listing again', async () => {
    const { fake, compute } = await cluster({ historyLimit: 50 });
    const go = join(dir, `go-${keys}`);
    const { jobId } = await compute.submit(job('waits', 'sh', '-c', `while [ ! -e ${go} ]; do sleep 0.05; done`), { idempotencyKey: key() });
    const seen: string[] = [];
    const watching = (async () => {
      for await (const status of compute.watch(jobId)) seen.push(status.state);
    })();
    await running(compute, jobId);
    const lists = fake.requests.get('list jobs') ?? 0;
    fake.dropWatches();
    fake.compact();
    await writeFile(go, '');
    await watching;
    expect(seen.at(-1)).toBe('succeeded');
    expect(fake.requests.get('list jobs')).toBe(lists + 1);
  });
});

describe('compute-kubernetes with Kueue', () => {
  it('labels the Job with the LocalQueue and creates it suspended; it waits pending until Kueue admits it, then runs', async () => {
    const { fake, compute } = await cluster({ kueue: 'hold' }, { kueue: { queueName: 'team-a', priorityClass: 'high' } });
    const { jobId } = await compute.submit(job('queued', 'echo', 'admitted'), { idempotencyKey: key() });
    const body = fake.created.jobs[0];
    expect(body.metadata?.labels).toMatchObject({ 'kueue.x-k8s.io/queue-name': 'team-a', 'kueue.x-k8s.io/priority-class': 'high' });
    expect(body.spec?.suspend).toBe(true);
    expect(body.spec?.template.spec?.containers[0].resources?.requests).toMatchObject({ cpu: '500m', memory: String(2 ** 26) });
    expect(await compute.status(jobId)).toEqual({ jobId, state: 'pending', message: 'suspended until Kueue admits it from LocalQueue team-a' });
    expect(fake.pods('ml')).toEqual([]);
    fake.admitQueued();
    expect(await finalStatus(compute, jobId)).toMatchObject({ state: 'succeeded' });
    expect((await lines(compute, jobId)).map((l) => l.line)).toEqual(['admitted']);
  });
});

describe('compute-kubernetes capacity', () => {
  it("reports the nodes' allocatable, GPUs by the type label with their memory, less what running pods request", async () => {
    const cpuNode = { name: 'cpu-a', cpus: 4, memoryBytes: 16 * GIB };
    const { compute } = await cluster({ nodes: [teslaNode, cpuNode] });
    expect(await compute.capacity()).toEqual({
      total: { cpus: 12, memoryBytes: 48 * GIB, gpus: { tesla: { count: 2, memoryBytes: 16384 * 2 ** 20 } } },
      available: { cpus: 12, memoryBytes: 48 * GIB, gpus: { tesla: { count: 2, memoryBytes: 16384 * 2 ** 20 } } },
    });
    const { jobId } = await compute.submit({ ...job('holds', 'sleep', '3600'), resources: { cpus: 2, memoryBytes: 4 * GIB, gpus: { count: 1, type: 'tesla' } } }, { idempotencyKey: key() });
    await running(compute, jobId);
    expect((await compute.capacity()).available).toEqual({ cpus: 10, memoryBytes: 44 * GIB, gpus: { tesla: { count: 1, memoryBytes: 16384 * 2 ** 20 } } });
  });
});

describe('compute-kubernetes whyCannotRun', () => {
  it('refuses a command without an image unless the config names a defaultImage, which it then runs in', async () => {
    const { compute } = await cluster();
    const command: JobSpec = { name: 'cmd', command: ['echo', 'in the default image'], resources };
    expect(compute.whyCannotRun?.(command)).toMatch(/^compute-kubernetes runs container images: give the job an image/);
    expect(compute.whyCannotRun?.(job('img', 'true'))).toBeUndefined();
    await expect(compute.submit(command, { idempotencyKey: key() })).rejects.toThrow(TypeError);

    const { fake, compute: withDefault } = await cluster({}, { defaultImage: 'python:3.12-slim' });
    expect(withDefault.whyCannotRun?.(command)).toBeUndefined();
    const { jobId } = await withDefault.submit(command, { idempotencyKey: key() });
    expect(await finalStatus(withDefault, jobId)).toMatchObject({ state: 'succeeded' });
    expect(fake.created.jobs[0].spec?.template.spec?.containers[0].image).toBe('python:3.12-slim');
  });
});

describe('the fake API server', () => {
  it('refuses with 422 Invalid, and records, a Job the real API would refuse', async () => {
    const fake = await startFakeKubernetes();
    const kc = new KubeConfig();
    kc.loadFromString(fake.kubeconfig);
    const batch = kc.makeApiClient(BatchV1Api);
    const bad = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'Bad_Name' },
      spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'main', image: 'x', resources: { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '2' } } }] } } },
    };
    await expect(batch.createNamespacedJob({ namespace: 'ml', body: bad })).rejects.toMatchObject({ code: 422 });
    await fake.stop();
    expect(fake.validationFailures.map((f) => f.message).join('\n')).toEqual(expect.stringContaining('metadata.name: Invalid value: "Bad_Name"'));
    expect(fake.validationFailures[0].message).toMatch(/restartPolicy: Unsupported value: "Always"/);
    expect(fake.validationFailures[0].message).toMatch(/requests\[nvidia.com\/gpu\]: Invalid value: must be equal to nvidia.com\/gpu limit/);
  });
});
