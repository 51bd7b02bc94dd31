import { serviceVariable } from '@trellis/platform';
import { kitVariable, programs, type Address, type Program } from './programs';
import { ConfigMap, Deployment, Namespace, PersistentVolumeClaim, PodDisruptionBudget, Service, StatefulSet, type KubernetesObject } from './models';
import type { Values } from './values';

/** Where every service keeps its files (TRELLIS_DATA_DIR): the shared data volume. */
export const DATA_DIR = '/var/lib/trellis';
/** Where a service that acts as itself finds its API key, mounted from the service keys' Secret. */
export const KEYS_DIR = '/var/run/secrets/trellis';
/** The user deploy/containers/Containerfile runs Trellis as; the volumes are made its group's (fsGroup). */
const TRELLIS_USER = 10001;
const NATS = { name: 'trellis-nats', client: 4222, monitor: 8222, config: '/etc/nats', data: '/data' };

/** The Service (and Deployment) name of a program. */
export const objectName = (program: string) => `trellis-${program}`;

/** The labels that select a program's pods; immutable once a Deployment exists, so no version in them. */
export function selectorLabels(program: string): Record<string, string> {
  return { 'app.kubernetes.io/name': objectName(program), 'app.kubernetes.io/part-of': 'trellis' };
}

/** The generated manifests: file name (under deploy/kubernetes) -> its objects, in apply order. */
export function manifests(values: Values): Map<string, KubernetesObject[]> {
  const all = programs();
  const files = new Map<string, KubernetesObject[]>([['namespace.yaml', namespaceObjects(values)]]);
  if (values.nats.deploy) files.set('nats.yaml', natsObjects(values));
  for (const program of all) files.set(`${program.name}.yaml`, programObjects(program, all, values));
  return files;
}

function namespaceObjects(values: Values): KubernetesObject[] {
  const objects: KubernetesObject[] = [new Namespace({ metadata: { name: values.namespace, labels: { 'app.kubernetes.io/part-of': 'trellis' } } })];
  if (values.data.create) {
    objects.push(
      new PersistentVolumeClaim({
        metadata: { name: values.data.claimName, namespace: values.namespace, labels: { 'app.kubernetes.io/part-of': 'trellis' } },
        spec: {
          // Tracking writes artifacts that the registry copies, from other pods: every replica needs the same files.
          accessModes: ['ReadWriteMany'],
          resources: { requests: { storage: values.data.size } },
          ...(values.data.storageClassName ? { storageClassName: values.data.storageClassName } : {}),
        },
      }),
    );
  }
  return objects;
}

function programObjects(program: Program, all: Program[], values: Values): KubernetesObject[] {
  const settings = values.programs[program.name];
  if (!settings) throw new Error(`deploy/kubernetes/values.yaml has no programs.${program.name}: give its replicas and resources`);
  const name = objectName(program.name);
  const metadata = { name, namespace: values.namespace, labels: { ...selectorLabels(program.name), 'app.kubernetes.io/component': program.name } };
  const tag = settings.tag ?? values.image.tag;
  const ports = Object.entries(program.ports).map(([portName, containerPort]) => ({ name: portName, containerPort, protocol: 'TCP' as const }));
  return [
    new Deployment({
      metadata,
      spec: {
        replicas: settings.replicas,
        selector: { matchLabels: selectorLabels(program.name) },
        // One new pod at a time, and an old one goes only once the new one is ready: no capacity is lost mid-rollout.
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: {
            labels: { ...metadata.labels, 'app.kubernetes.io/version': tag },
            annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(program.ports.ops), 'prometheus.io/path': '/metrics' },
          },
          spec: {
            // The endpoints' removal reaches every client during the preStop wait, then SIGTERM drains what is in flight.
            terminationGracePeriodSeconds: values.shutdown.endpointsSeconds + values.shutdown.drainSeconds,
            securityContext: { runAsNonRoot: true, runAsUser: TRELLIS_USER, runAsGroup: TRELLIS_USER, fsGroup: TRELLIS_USER },
            containers: [
              {
                name: program.name,
                image: `${values.image.registry}/trellis-${program.name}:${tag}`,
                imagePullPolicy: values.image.pullPolicy,
                ports,
                env: environment(program, all, values),
                readinessProbe: { httpGet: { path: '/readyz', port: 'ops' }, periodSeconds: 5, failureThreshold: 2 },
                // /healthz answers as soon as the ops server listens, before migrations: a slow start is not a dead process.
                livenessProbe: { httpGet: { path: '/healthz', port: 'ops' }, periodSeconds: 10, failureThreshold: 6 },
                lifecycle: { preStop: { exec: { command: ['sleep', String(values.shutdown.endpointsSeconds)] } } },
                resources: { requests: { cpu: settings.cpu, memory: settings.memory }, limits: { memory: settings.memoryLimit } },
                securityContext: { allowPrivilegeEscalation: false },
                volumeMounts: [
                  ...(program.database ? [{ name: 'data', mountPath: DATA_DIR }] : []),
                  ...(program.credential ? [{ name: 'service-key', mountPath: KEYS_DIR, readOnly: true }] : []),
                ],
              },
            ],
            volumes: [
              ...(program.database ? [{ name: 'data', persistentVolumeClaim: { claimName: values.data.claimName } }] : []),
              ...(program.credential
                ? [{ name: 'service-key', secret: { secretName: values.serviceKeys.secretName, items: [{ key: keyFile(program.name), path: keyFile(program.name) }] } }]
                : []),
            ],
          },
        },
      },
    }),
    new Service({
      metadata,
      spec: {
        selector: selectorLabels(program.name),
        ports: ports.map(({ name: portName, containerPort, protocol }) => ({ name: portName, port: containerPort, targetPort: portName, protocol })),
      },
    }),
    // maxUnavailable rather than minAvailable: a drain can always evict one pod, even of a one-replica program.
    new PodDisruptionBudget({ metadata, spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(program.name) } } }),
  ];
}

const keyFile = (service: string) => `${service}.key`;

/** `host:port` of another program's Service, or its URL when the setting wants one. */
export function addressValue(address: Address, all: Program[]): string {
  const port = all.find((program) => program.name === address.program)?.ports[address.port];
  if (port === undefined) throw new Error(`${address.variable}: ${address.program} has no ${address.port} port`);
  const hostPort = `${objectName(address.program)}:${port}`;
  return address.path === undefined ? hostPort : `http://${hostPort}${address.path}`;
}

function environment(program: Program, all: Program[], values: Values) {
  const secret = (reference: { secretName: string; key: string }) => ({ secretKeyRef: { name: reference.secretName, key: reference.key } });
  const own = values.programs[program.name].database;
  return [
    { name: kitVariable('mode'), value: 'distributed' },
    // The default, 127.0.0.1, is out of reach of the kubelet's probes and of the other pods.
    { name: kitVariable('host'), value: '0.0.0.0' },
    { name: kitVariable('log.format'), value: 'json' },
    { name: kitVariable('nats.url'), value: values.nats.url },
    ...(program.database ? [{ name: kitVariable('dataDir'), value: DATA_DIR }] : []),
    ...(program.database && !own ? [{ name: kitVariable('databaseUrl'), valueFrom: secret(values.database) }] : []),
    ...(own ? [{ name: serviceVariable(program.name, 'databaseUrl'), valueFrom: secret(own) }] : []),
    ...program.addresses.map((address) => ({ name: address.variable, value: addressValue(address, all) })),
    ...(program.credential ? [{ name: program.credential, value: `file:${KEYS_DIR}/${keyFile(program.name)}` }] : []),
  ];
}

function natsObjects(values: Values): KubernetesObject[] {
  const metadata = { name: NATS.name, namespace: values.namespace, labels: { ...selectorLabels('nats'), 'app.kubernetes.io/component': 'nats' } };
  const config = [`port: ${NATS.client}`, `http_port: ${NATS.monitor}`, 'jetstream {', `  store_dir: ${NATS.data}`, `  max_file_store: ${values.nats.maxFileStore}`, '}', ''].join('\n');
  return [
    new ConfigMap({ metadata, data: { 'nats.conf': config } }),
    new StatefulSet({
      metadata,
      spec: {
        serviceName: NATS.name,
        replicas: 1,
        selector: { matchLabels: selectorLabels('nats') },
        template: {
          metadata: { labels: metadata.labels },
          spec: {
            containers: [
              {
                name: 'nats',
                image: values.nats.image,
                args: ['--config', `${NATS.config}/nats.conf`],
                ports: [
                  { name: 'client', containerPort: NATS.client, protocol: 'TCP' },
                  { name: 'monitor', containerPort: NATS.monitor, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' }, periodSeconds: 5 },
                livenessProbe: { httpGet: { path: '/healthz', port: 'monitor' }, periodSeconds: 10, failureThreshold: 6 },
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
                volumeMounts: [
                  { name: 'config', mountPath: NATS.config },
                  { name: 'jetstream', mountPath: NATS.data },
                ],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: NATS.name } }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'jetstream' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: values.nats.storage } } } }],
      },
    }),
    new Service({
      metadata,
      spec: {
        selector: selectorLabels('nats'),
        ports: [
          { name: 'client', port: NATS.client, targetPort: 'client', protocol: 'TCP' },
          { name: 'monitor', port: NATS.monitor, targetPort: 'monitor', protocol: 'TCP' },
        ],
      },
    }),
  ];
}
