import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { MANIFESTS_DIR, renderManifests } from './generate';
import { KINDS } from './models';
import { loadValues, ROOT, VALUES_FILE } from './values';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const manifestFiles = () => readdirSync(MANIFESTS_DIR).filter((name) => name.endsWith('.yaml') && name !== 'values.yaml').sort();
/** Every document of the committed manifests, as plain objects, with the file it is in. */
const documents: Array<{ file: string; body: Body }> = manifestFiles().flatMap((file) =>
  parseAllDocuments(readFileSync(join(MANIFESTS_DIR, file), 'utf8')).map((document) => ({ file, body: document.toJS() as Body })),
);
const ofKind = (kind: string) => documents.filter(({ body }) => body.kind === kind).map(({ body }) => body);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([key, value]) => labels[key] === value);
const workloads = () => [...ofKind('Deployment'), ...ofKind('StatefulSet')];
const containerPorts = (workload: Body): Body[] => workload.spec.template.spec.containers.flatMap((container: Body) => container.ports ?? []);

/** Each schema violation of `body` that kubernetes-models reports, or `unknown kind` for a kind the manifests do not use. */
function schemaErrors(body: Body): string[] {
  const Kind = KINDS[`${body.apiVersion}/${body.kind}`];
  if (!Kind) return [`unknown kind ${body.apiVersion}/${body.kind}`];
  try {
    new Kind(body as never).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

describe('the Kubernetes manifests (deploy/kubernetes)', () => {
  it('are what tools/deploy/kubernetes generates from values.yaml, with no file left over', () => {
    const fresh = renderManifests();
    expect(manifestFiles()).toEqual([...fresh.keys()].sort());
    for (const [name, text] of fresh) expect({ name, text: readFileSync(join(MANIFESTS_DIR, name), 'utf8') }).toEqual({ name, text });
  });

  it('hold one Deployment per distributed program (an app whose main.ts runs a platform process, but standalone)', () => {
    const main = (name: string) => join(ROOT, 'apps', name, 'src', 'main.ts');
    const apps = readdirSync(join(ROOT, 'apps')).filter((name) => name !== 'standalone' && existsSync(main(name)) && readFileSync(main(name), 'utf8').includes('runUntilSignalled('));
    expect(ofKind('Deployment').map((deployment) => deployment.metadata.name).sort()).toEqual(apps.map((name) => `trellis-${name}`).sort());
  });

  it("pass Kubernetes' OpenAPI schema, document by document, in the namespace of values.yaml", () => {
    expect(documents.length).toBeGreaterThan(0);
    const { namespace } = loadValues();
    for (const { file, body } of documents) {
      expect({ file, kind: body.kind, errors: schemaErrors(body) }).toEqual({ file, kind: body.kind, errors: [] });
      expect({ file, kind: body.kind, namespace: body.kind === 'Namespace' ? body.metadata.name : body.metadata.namespace }).toEqual({ file, kind: body.kind, namespace });
    }
  });

  it('would refuse a Deployment the API server refuses, and a kind they do not know', () => {
    const deployment = structuredClone(ofKind('Deployment')[0]);
    deployment.spec.replicas = 'two';
    delete deployment.spec.template.spec.containers[0].name;
    expect(schemaErrors(deployment).join()).toMatch(/(?=.*replicas must be integer)(?=.*must have required property name)/);
    expect(schemaErrors({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' })).toEqual(['unknown kind networking.k8s.io/v1/Ingress']);
  });

  it('probe readiness on /readyz and liveness on /healthz, on a port the container declares, and reserve CPU and memory', () => {
    for (const deployment of ofKind('Deployment')) {
      for (const container of deployment.spec.template.spec.containers as Body[]) {
        const declared = (container.ports as Body[]).map((port) => port.name);
        expect({ name: deployment.metadata.name, readiness: container.readinessProbe.httpGet.path, liveness: container.livenessProbe.httpGet.path }).toEqual({ name: deployment.metadata.name, readiness: '/readyz', liveness: '/healthz' });
        expect(declared).toEqual(expect.arrayContaining([container.readinessProbe.httpGet.port, container.livenessProbe.httpGet.port]));
        expect(container.resources).toEqual({ requests: { cpu: expect.any(String), memory: expect.any(String) }, limits: { memory: expect.any(String) } });
        expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(container.ports.find((port: Body) => port.name === 'ops').containerPort));
      }
    }
  });

  it('roll out one pod at a time without going below the replicas, give each pod longer than its drain, and keep one PodDisruptionBudget per Deployment', () => {
    const { shutdown } = loadValues();
    for (const deployment of ofKind('Deployment')) {
      const { spec } = deployment;
      expect({ name: deployment.metadata.name, strategy: spec.strategy }).toEqual({ name: deployment.metadata.name, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
      expect(spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(shutdown.drainSeconds);
      expect(matches(spec.selector.matchLabels, spec.template.metadata.labels)).toBe(true);
      const budgets = ofKind('PodDisruptionBudget').filter((budget) => matches(budget.spec.selector.matchLabels, spec.template.metadata.labels));
      expect({ name: deployment.metadata.name, budgets: budgets.map((budget) => budget.spec.maxUnavailable) }).toEqual({ name: deployment.metadata.name, budgets: [1] });
    }
  });

  it("have every Service select one workload's pods and target ports those pods declare", () => {
    for (const service of ofKind('Service')) {
      const selected = workloads().filter((workload) => matches(service.spec.selector, workload.spec.template.metadata.labels));
      expect({ service: service.metadata.name, selected: selected.length }).toEqual({ service: service.metadata.name, selected: 1 });
      const declared = containerPorts(selected[0]).map((port) => port.name);
      for (const port of service.spec.ports as Body[]) expect({ service: service.metadata.name, targetPort: port.targetPort, declared: declared.includes(port.targetPort) }).toEqual({ service: service.metadata.name, targetPort: port.targetPort, declared: true });
    }
  });

  it('point every address setting at a Service that has that port, and every credential at a key file the pod mounts', () => {
    const servicePort = (host: string, port: number) => ofKind('Service').some((service) => service.metadata.name === host && service.spec.ports.some((candidate: Body) => candidate.port === port));
    let addresses = 0;
    for (const deployment of ofKind('Deployment')) {
      const { containers, volumes } = deployment.spec.template.spec;
      for (const container of containers as Body[]) {
        for (const { name, value } of container.env as Body[]) {
          const address = /^(?:(?:nats|http):\/\/)?(trellis-[a-z]+):(\d+)(?:\/.*)?$/.exec(value ?? '');
          if (address) {
            addresses++;
            expect({ deployment: deployment.metadata.name, name, value, reachable: servicePort(address[1], Number(address[2])) }).toEqual({ deployment: deployment.metadata.name, name, value, reachable: true });
          }
          const keyFile = /^file:(.*)\/([^/]+)$/.exec(value ?? '');
          if (keyFile) {
            const mount = (container.volumeMounts as Body[]).find((candidate) => candidate.mountPath === keyFile[1]);
            const volume = (volumes as Body[]).find((candidate) => candidate.name === mount?.name);
            expect({ name, items: volume?.secret?.items }).toEqual({ name, items: [{ key: keyFile[2], path: keyFile[2] }] });
          }
        }
      }
    }
    expect(addresses).toBeGreaterThan(ofKind('Deployment').length);
  });

  it('give NATS a configuration nats-server accepts, with JetStream on', () => {
    const [configMap] = ofKind('ConfigMap').filter((candidate) => candidate.data['nats.conf']);
    const dir = mkdtempSync(join(tmpdir(), 'trellis-nats-conf-'));
    try {
      writeFileSync(join(dir, 'nats.conf'), configMap.data['nats.conf']);
      // -t parses the file and refuses unknown fields; it exits non-zero, which throws, on any error.
      expect(execFileSync('nats-server', ['-c', join(dir, 'nats.conf'), '-t'], { encoding: 'utf8', stdio: 'pipe' })).toBe('');
      expect(configMap.data['nats.conf']).toMatch(/^jetstream \{/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse a values file with a key they do not know, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-values-'));
    try {
      writeFileSync(join(dir, 'values.yaml'), `${readFileSync(VALUES_FILE, 'utf8')}\nreplicas: 3\n`);
      expect(() => loadValues(join(dir, 'values.yaml'))).toThrow(/Unrecognized key: "replicas"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
