// Requests per job of compute-kubernetes against the fake API server
// (@trellis/plugin-compute-kubernetes/testing): `--jobs` jobs submitted `--concurrency` at a time,
// each watched to completion, then cleaned up, with the fake counting every request the client
// sends by verb and kind. Same-run baseline: the same Jobs through @kubernetes/client-node by hand
// the way a simple client does it (create, poll the Job every `--poll-ms` until it ends, delete
// it), and the protocol's minimum:
//   create Job (+ create Service for a job of several replicas) per job; its status from one watch
//   of Jobs and one of pods shared by all jobs; cleanup by the Job's ttlSecondsAfterFinished, with
//   Kubernetes' garbage collector taking the pods and the Service the Job owns (0 requests).
//
//   node tools/bench/run.cjs tools/bench/compute/kubernetes.bench.ts [--jobs 1000] [--replicas 1] [--concurrency 50] [--poll-ms 100]
import { cpus, loadavg } from 'node:os';
import { BatchV1Api, CoreV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import type { ComputeBackend, JobSpec } from '@trellis/plugin-sdk';
import { createPluginInstance } from '@trellis/plugin-sdk/testing';
import computeKubernetes from '@trellis/plugin-compute-kubernetes';
import { type FakeKubernetes, startFakeKubernetes } from '@trellis/plugin-compute-kubernetes/testing';

function argument(name: string, fallback: string): number {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback);
}

const jobs = argument('jobs', '1000');
const replicas = argument('replicas', '1');
const concurrency = argument('concurrency', '50');
const pollMs = argument('poll-ms', '100');
const NAMESPACE = 'bench';
const NODES = [{ name: 'node-a', cpus: 10_000, memoryBytes: 2 ** 50 }];
const spec = (i: number): JobSpec => ({ name: `bench-${i}`, image: 'busybox:1.36', command: ['true'], resources: { cpus: 0.1, memoryBytes: 2 ** 24 }, replicas });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work(i)` for i in 0..n-1, `concurrency` at a time. */
async function pool(n: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

/** Until the fake holds none of the jobs' objects: what cleanup means. */
async function cleanedUp(fake: FakeKubernetes): Promise<void> {
  while (fake.jobs(NAMESPACE).length + fake.pods(NAMESPACE).length + fake.services(NAMESPACE).length > 0) await sleep(20);
}

interface Result {
  way: string;
  seconds: number;
  requests: Map<string, number>;
}

async function throughPlugin(): Promise<Result> {
  const fake = await startFakeKubernetes({ nodes: NODES });
  const compute = (await createPluginInstance(computeKubernetes, { kubeconfig: fake.kubeconfig, namespace: NAMESPACE, ttlSecondsAfterFinished: 0 })) as ComputeBackend;
  const started = performance.now();
  await pool(jobs, async (i) => {
    const { jobId } = await compute.submit(spec(i), { idempotencyKey: `bench-${i}` });
    let state = '';
    for await (const status of compute.watch(jobId)) state = status.state;
    if (state !== 'succeeded') throw new Error(`job ${i} ended ${state}`);
  });
  await cleanedUp(fake);
  const seconds = (performance.now() - started) / 1000;
  await compute.close?.();
  await fake.stop();
  if (fake.validationFailures.length > 0) throw new Error(`the fake refused bodies: ${JSON.stringify(fake.validationFailures.slice(0, 3))}`);
  return { way: 'compute-kubernetes', seconds, requests: new Map(fake.requests) };
}

/** A simple client: create the Job (and Service), poll it until it ends, delete it in the background. */
async function byPolling(): Promise<Result> {
  const fake = await startFakeKubernetes({ nodes: NODES });
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfig);
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const started = performance.now();
  await pool(jobs, async (i) => {
    const name = `poll-${i}`;
    const body: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        completionMode: 'Indexed',
        completions: replicas,
        parallelism: replicas,
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', ...(replicas > 1 ? { subdomain: name } : {}), containers: [{ name: 'main', image: 'busybox:1.36', command: ['true'], resources: { requests: { cpu: '100m', memory: String(2 ** 24) } } }] } },
      },
    };
    await batch.createNamespacedJob({ namespace: NAMESPACE, body });
    if (replicas > 1) {
      await core.createNamespacedService({ namespace: NAMESPACE, body: { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', selector: { 'batch.kubernetes.io/job-name': name }, ports: [{ port: 29500 }] } } });
    }
    for (;;) {
      const job = await batch.readNamespacedJob({ name, namespace: NAMESPACE });
      if (job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) break;
      await sleep(pollMs);
    }
    await batch.deleteNamespacedJob({ name, namespace: NAMESPACE, propagationPolicy: 'Background' });
    if (replicas > 1) await core.deleteNamespacedService({ name, namespace: NAMESPACE });
  });
  await cleanedUp(fake);
  const seconds = (performance.now() - started) / 1000;
  await fake.stop();
  if (fake.validationFailures.length > 0) throw new Error(`the fake refused bodies: ${JSON.stringify(fake.validationFailures.slice(0, 3))}`);
  return { way: `poll every ${pollMs} ms`, seconds, requests: new Map(fake.requests) };
}

function report(result: Result): void {
  const total = [...result.requests.values()].reduce((a, b) => a + b, 0);
  const kinds = [...result.requests].sort(([a], [b]) => a.localeCompare(b)).map(([kind, n]) => `${kind} ${n}`).join(', ');
  console.log(`${result.way.padEnd(20)} ${(total / jobs).toFixed(3).padStart(7)} requests/job  (${total} in all: ${kinds})  ${result.seconds.toFixed(1)} s, ${(jobs / result.seconds).toFixed(0)} jobs/s`);
}

async function main(): Promise<void> {
  const minimum = replicas > 1 ? 2 : 1;
  console.log(`compute-kubernetes: ${jobs} jobs of ${replicas} replica(s) (\`true\`), ${concurrency} at a time, against the fake API server; node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0].toFixed(1)}`);
  console.log(`protocol minimum: ${minimum} request(s)/job (create Job${replicas > 1 ? ' + create Service' : ''}), plus 4 shared (list + watch of Jobs and of pods), cleanup by ttlSecondsAfterFinished`);
  report(await throughPlugin());
  report(await byPolling());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
