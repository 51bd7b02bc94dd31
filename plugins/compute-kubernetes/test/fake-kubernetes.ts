import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject, V1Job, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { FakeCluster, type FakeClusterOptions, type FakeNodeOptions } from './fake-cluster';
import { FakeStore, matches, type Resource, validSelector, type WatchEvent, type WatchFilter } from './fake-store';
import { invalidReasons, type ValidationFailure } from './fake-validation';

export type { FakeNodeOptions } from './fake-cluster';
export type { ValidationFailure } from './fake-validation';

/** How to start the fake. */
export interface FakeKubernetesOptions extends FakeClusterOptions {
  /** The cluster's nodes (default: one node `node-a` with 4 CPUs and 8 GiB). */
  nodes?: FakeNodeOptions[];
  /** How many changes the fake keeps for watches that resume (default 10,000); older resourceVersions get 410 Gone. */
  historyLimit?: number;
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK (default 1,000 ms). */
  bookmarkIntervalMs?: number;
}

/** A running fake Kubernetes API server. */
export interface FakeKubernetes {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The bearer token it wants. */
  readonly token: string;
  /** A kubeconfig (YAML) for it, context `fake`. */
  readonly kubeconfig: string;
  /** Requests by verb and kind, `create jobs`, `watch pods`, `get pods/log`, ... */
  readonly requests: ReadonlyMap<string, number>;
  /** Every body the fake refused as the real API would have; specs assert it stays empty. */
  readonly validationFailures: readonly ValidationFailure[];
  /** The bodies of accepted creates, by resource, as received. */
  readonly created: { readonly jobs: readonly V1Job[]; readonly services: readonly V1Service[] };
  /** Objects stored now. */
  jobs(namespace?: string): V1Job[];
  pods(namespace?: string): V1Pod[];
  services(namespace?: string): V1Service[];
  /** Closes every open watch stream, as an API server restart or a load balancer does. */
  dropWatches(): void;
  /** Forgets the change history: watches resuming from any resourceVersion given out so far get 410 Gone. */
  compact(): void;
  /** In Kueue 'hold' mode: admits every queued Job. */
  admitQueued(): void;
  /** Total requests so far. */
  requestCount(): number;
  /** Resolves at the next change of any object it stores (a create, an update of a status, a delete). */
  changed(): Promise<void>;
  stop(): Promise<void>;
}

interface Route {
  resource: Resource | 'pods/log';
  namespace?: string;
  name?: string;
}

const API_GROUP: Readonly<Record<Resource, string>> = { jobs: '/apis/batch/v1', pods: '/api/v1', services: '/api/v1', nodes: '/api/v1' };
const KIND: Readonly<Record<Resource, { kind: string; apiVersion: string }>> = {
  jobs: { kind: 'Job', apiVersion: 'batch/v1' },
  pods: { kind: 'Pod', apiVersion: 'v1' },
  services: { kind: 'Service', apiVersion: 'v1' },
  nodes: { kind: 'Node', apiVersion: 'v1' },
};

/**
 * Starts a fake Kubernetes API server on 127.0.0.1 (a free port) for specs and benches: Jobs,
 * Pods, Services and Nodes with list, watch (resourceVersion, bookmarks, 410 Gone past a bounded
 * history), create (validated against the real schema; 409, 422), get, delete (propagationPolicy),
 * and pod logs (follow, timestamps); controllers behind it run each pod's command as a process.
 */
export async function startFakeKubernetes(options: FakeKubernetesOptions = {}): Promise<FakeKubernetes> {
  const token = `fake-${Math.random().toString(36).slice(2)}`;
  const store = new FakeStore(options.historyLimit ?? 10_000);
  const cluster = new FakeCluster(store, options);
  const requests = new Map<string, number>();
  const failures: ValidationFailure[] = [];
  const created = { jobs: [] as V1Job[], services: [] as V1Service[] };
  const watches = new Set<ServerResponse>();

  for (const node of options.nodes ?? [{ name: 'node-a', cpus: 4, memoryBytes: 8 * 2 ** 30 }]) store.create<V1Node>('nodes', nodeObject(node));

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, 500, status(500, 'InternalError', error.message)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const route = parseRoute(url.pathname);
    const query = url.searchParams;
    const watching = query.get('watch') === 'true' || query.get('watch') === '1';
    const verb = !route ? 'unknown' : req.method === 'GET' ? (route.name && route.resource !== 'pods/log' ? 'get' : watching ? 'watch' : route.resource === 'pods/log' ? 'get' : 'list') : (req.method ?? '').toLowerCase() === 'post' ? 'create' : (req.method ?? '').toLowerCase();
    const counted = `${verb} ${route?.resource ?? url.pathname}`;
    requests.set(counted, (requests.get(counted) ?? 0) + 1);
    if (!route) return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`));
    const request = `${req.method} ${url.pathname}`;
    const body = await readBody(req);

    for (const selector of ['labelSelector', 'fieldSelector'] as const) {
      const value = query.get(selector);
      if (value !== null && selector === 'labelSelector' && !validSelector(value)) return badRequest(res, request, `unable to parse requirement: invalid label selector ${JSON.stringify(value)}`);
    }
    if (route.resource === 'pods/log') return podLog(res, route, query, request);
    const resource = route.resource;
    const filter: WatchFilter = { resource, namespace: route.namespace, labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined };

    if (req.method === 'GET' && route.name) {
      const object = store.get(resource, route.namespace, route.name);
      return object ? send(res, 200, object) : send(res, 404, notFound(resource, route.name));
    }
    if (req.method === 'GET' && watching) return watch(req, res, filter, query);
    if (req.method === 'GET') {
      const items = store.list(filter);
      return send(res, 200, { kind: `${KIND[resource].kind}List`, apiVersion: KIND[resource].apiVersion, metadata: { resourceVersion: String(store.resourceVersion) }, items });
    }
    if (req.method === 'POST' && !route.name && (resource === 'jobs' || resource === 'services')) {
      const parsed = parseJson(body);
      const reasons = invalidReasons(resource === 'jobs' ? 'Job' : 'Service', parsed, route.namespace);
      if (reasons.length > 0) {
        failures.push({ request, message: reasons.join('; ') });
        return send(res, 422, { ...status(422, 'Invalid', `${KIND[resource].kind} is invalid: ${reasons.join('; ')}`), details: { kind: resource, causes: reasons.map((message) => ({ message })) } });
      }
      const object = parsed as KubernetesObject;
      object.metadata = { ...object.metadata, namespace: route.namespace };
      if (resource === 'jobs') {
        created.jobs.push(structuredClone(object) as V1Job);
        const job = object as V1Job;
        if (options.kueue && job.metadata?.labels?.['kueue.x-k8s.io/queue-name'] && job.spec) job.spec.suspend = true;
        job.status = {};
      } else created.services.push(structuredClone(object) as V1Service);
      const stored = store.create(resource, object);
      if (!stored) return send(res, 409, { ...status(409, 'AlreadyExists', `${resource}.${resource === 'jobs' ? 'batch ' : ''}"${object.metadata.name}" already exists`), details: { name: object.metadata.name, kind: resource } });
      return send(res, 201, stored);
    }
    if (req.method === 'DELETE' && route.name) {
      const deleteOptions = body.length > 0 ? parseJson(body) : {};
      const reasons = invalidReasons('DeleteOptions', deleteOptions);
      const policy = query.get('propagationPolicy') ?? (deleteOptions as { propagationPolicy?: string }).propagationPolicy ?? (resource === 'jobs' ? 'Orphan' : 'Background');
      if (!['Foreground', 'Background', 'Orphan'].includes(policy)) reasons.push(`propagationPolicy: Unsupported value: ${JSON.stringify(policy)}`);
      if (reasons.length > 0) return badRequest(res, request, reasons.join('; '));
      const object = store.get(resource, route.namespace, route.name);
      if (!object) return send(res, 404, notFound(resource, route.name));
      cluster.delete(resource, object, policy as 'Foreground' | 'Background' | 'Orphan');
      const after = store.get(resource, route.namespace, route.name);
      return send(res, 200, after ?? { ...status(200, '', ''), status: 'Success', details: { name: route.name, kind: resource, uid: object.metadata?.uid } });
    }
    return send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not supported on ${url.pathname}`));
  }

  function badRequest(res: ServerResponse, request: string, message: string): void {
    failures.push({ request, message });
    send(res, 400, status(400, 'BadRequest', message));
  }

  /** A watch stream: the changes after resourceVersion (or ADDED for what exists), then live ones, as JSON lines. */
  function watch(req: IncomingMessage, res: ServerResponse, filter: WatchFilter, query: URLSearchParams): void {
    const from = query.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const write = (event: { type: string; object: unknown }) => res.write(`${JSON.stringify(event)}\n`);
    let backlog: { type: string; object: KubernetesObject }[];
    if (!from || from === '0') {
      backlog = store.list(filter).map((object) => ({ type: 'ADDED', object }));
    } else {
      const changes = store.changesSince(Number(from), filter);
      if (!changes) {
        write({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${store.resourceVersion})`) });
        res.end();
        return;
      }
      backlog = changes;
    }
    for (const event of backlog) write(event);
    const unsubscribe = store.onChange((event: WatchEvent) => {
      if (event.resource === filter.resource && matches(event.object, filter)) write(event);
    });
    const bookmarks =
      query.get('allowWatchBookmarks') === 'true'
        ? setInterval(() => write({ type: 'BOOKMARK', object: { ...KIND[filter.resource], metadata: { resourceVersion: String(store.resourceVersion) } } }), options.bookmarkIntervalMs ?? 1000)
        : undefined;
    const timeout = query.get('timeoutSeconds') ? setTimeout(() => res.end(), Number(query.get('timeoutSeconds')) * 1000) : undefined;
    watches.add(res);
    const close = () => {
      unsubscribe();
      clearInterval(bookmarks);
      clearTimeout(timeout);
      watches.delete(res);
    };
    res.on('close', close);
    req.on('close', close);
  }

  function podLog(res: ServerResponse, route: Route, query: URLSearchParams, request: string): void {
    const pod = store.get<V1Pod>('pods', route.namespace, route.name ?? '');
    if (!pod) return send(res, 404, notFound('pods', route.name ?? ''));
    const containerName = query.get('container') ?? pod.spec?.containers[0]?.name;
    if (!pod.spec?.containers.some((c) => c.name === containerName)) return badRequest(res, request, `container ${containerName} is not valid for pod ${route.name}`);
    if (query.get('previous') === 'true') return send(res, 400, status(400, 'BadRequest', `previous terminated container "${containerName}" in pod "${route.name}" not found`));
    const container = cluster.container(route.namespace ?? '', route.name ?? '');
    if (!container) {
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? 'ContainerCreating';
      return send(res, 400, status(400, 'BadRequest', `container "${containerName}" in pod "${route.name}" is waiting to start: ${waiting}`));
    }
    const stamps = query.get('timestamps') === 'true';
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    let sent = 0;
    const flush = () => {
      for (; sent < container.lines.length; sent++) res.write(`${stamps ? `${container.lines[sent].time.toISOString()} ` : ''}${container.lines[sent].text}\n`);
      if (container.exited || query.get('follow') !== 'true') {
        container.listeners.delete(flush);
        res.end();
      }
    };
    container.listeners.add(flush);
    res.on('close', () => container.listeners.delete(flush));
    flush();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const inNamespace = (resource: Resource, namespace?: string) => store.list({ resource, namespace });

  return {
    url,
    token,
    kubeconfig: kubeconfigFor(url, token),
    requests,
    validationFailures: failures,
    created,
    jobs: (namespace) => inNamespace('jobs', namespace) as V1Job[],
    pods: (namespace) => inNamespace('pods', namespace) as V1Pod[],
    services: (namespace) => inNamespace('services', namespace) as V1Service[],
    dropWatches: () => {
      for (const res of watches) res.end();
    },
    compact: () => store.compact(),
    admitQueued: () => cluster.admitQueued(),
    requestCount: () => [...requests.values()].reduce((a, b) => a + b, 0),
    changed: () =>
      new Promise<void>((resolve) => {
        const stop = store.onChange(() => {
          stop();
          resolve();
        });
      }),
    stop: async () => {
      for (const res of watches) res.end();
      await cluster.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parseRoute(path: string): Route | undefined {
  for (const [resource, prefix] of Object.entries(API_GROUP) as [Resource, string][]) {
    if (path === `${prefix}/${resource}`) return { resource };
    const match = new RegExp(`^${prefix}/namespaces/([a-z0-9-]+)/${resource}(?:/([a-z0-9.-]+)(/log)?)?$`).exec(path);
    if (match) return { resource: match[3] ? 'pods/log' : resource, namespace: match[1], name: match[2] };
    if (resource === 'nodes') {
      const node = new RegExp(`^${prefix}/nodes/([a-z0-9.-]+)$`).exec(path);
      if (node) return { resource, name: node[1] };
    }
  }
  return undefined;
}

function nodeObject(node: FakeNodeOptions): V1Node {
  const amounts: Record<string, string> = { cpu: String(node.cpus), memory: String(node.memoryBytes), pods: '110' };
  if (node.gpus) amounts[node.gpuResource ?? 'nvidia.com/gpu'] = String(node.gpus);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name, ...node.labels } },
    spec: { taints: node.taints },
    status: { capacity: amounts, allocatable: amounts, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function kubeconfigFor(url: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: fake`,
    `  cluster: {server: "${url}", insecure-skip-tls-verify: true}`,
    'users:',
    `- name: fake`,
    `  user: {token: "${token}"}`,
    'contexts:',
    `- name: fake`,
    `  context: {cluster: fake, user: fake, namespace: default}`,
    'current-context: fake',
    '',
  ].join('\n');
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function notFound(resource: string, name: string) {
  return { ...status(404, 'NotFound', `${resource} "${name}" not found`), details: { name, kind: resource } };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
