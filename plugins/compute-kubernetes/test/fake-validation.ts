import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isQuantity, parseQuantity } from '../src/quantity';

/** A kubernetes-models class: its `validate()` checks the object against Kubernetes' OpenAPI schema. */
type Model = new (data: never) => { validate(): void };

// kubernetes-models exports its files to `import` only; loading them by path works from CommonJS
// too (Node's require of ES modules, jest's transform), which its package exports would refuse.
const load = createRequire(__filename);
const model = (pkg: string, file: string, name: string) => (load(join(dirname(load.resolve(`${pkg}/package.json`)), file)) as Record<string, Model>)[name];
const Job = model('kubernetes-models', 'batch/v1/Job.js', 'Job');
const Service = model('kubernetes-models', 'v1/Service.js', 'Service');
const DeleteOptions = model('@kubernetes-models/apimachinery', 'apis/meta/v1/DeleteOptions.js', 'DeleteOptions');

/** A body the fake refused, as the real API server would have (422 Invalid, 400 BadRequest). */
export interface ValidationFailure {
  /** `POST /apis/batch/v1/namespaces/ml/jobs` */
  request: string;
  /** What the API server would say. */
  message: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** Resources that are not CPU, memory or storage: extended resources such as nvidia.com/gpu. */
const EXTENDED = (name: string) => name.includes('/') && !name.startsWith('kubernetes.io/');

type Body = Record<string, unknown>;

/**
 * The reasons the real API server refuses `body` as a `kind` object: the OpenAPI schema (through
 * kubernetes-models) and the apiserver's own validation of the fields Trellis sends (names, labels,
 * restartPolicy, Indexed jobs, resource requests and limits, env names, headless services).
 */
export function invalidReasons(kind: 'Job' | 'Service' | 'DeleteOptions', body: unknown, namespace?: string): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['the body is not a JSON object'];
  const reasons: string[] = [];
  const model = kind === 'Job' ? new Job(body as never) : kind === 'Service' ? new Service(body as never) : new DeleteOptions(body as never);
  try {
    model.validate();
  } catch (error) {
    reasons.push((error as Error).message);
  }
  const object = body as Body;
  if (kind === 'DeleteOptions') return reasons;
  if (object.apiVersion !== (kind === 'Job' ? 'batch/v1' : 'v1') || object.kind !== kind) reasons.push(`apiVersion/kind: must be ${kind === 'Job' ? 'batch/v1' : 'v1'} ${kind}`);
  reasons.push(...metadataReasons(object.metadata as Body | undefined, kind === 'Service' ? DNS1035_LABEL : DNS1123_LABEL, namespace));
  if (kind === 'Job') reasons.push(...jobReasons((object.spec ?? {}) as Body));
  else reasons.push(...serviceReasons((object.spec ?? {}) as Body));
  return reasons;
}

function metadataReasons(metadata: Body | undefined, namePattern: RegExp, namespace?: string): string[] {
  const reasons: string[] = [];
  const name = metadata?.name;
  if (typeof name !== 'string' || name.length > 63 || !namePattern.test(name)) reasons.push(`metadata.name: Invalid value: ${JSON.stringify(name)}: must be a DNS label of at most 63 characters`);
  if (metadata?.namespace !== undefined && metadata.namespace !== namespace) reasons.push(`metadata.namespace: does not match the namespace of the request (${namespace})`);
  reasons.push(...labelReasons('metadata.labels', metadata?.labels));
  for (const key of Object.keys((metadata?.annotations ?? {}) as Body)) if (!isQualifiedName(key)) reasons.push(`metadata.annotations: Invalid value: ${JSON.stringify(key)}: not a qualified name`);
  return reasons;
}

function labelReasons(path: string, labels: unknown): string[] {
  const reasons: string[] = [];
  for (const [key, value] of Object.entries((labels ?? {}) as Body)) {
    if (!isQualifiedName(key)) reasons.push(`${path}: Invalid value: ${JSON.stringify(key)}: a label key must be a qualified name`);
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) reasons.push(`${path}: Invalid value: ${JSON.stringify(value)}: a label value must be at most 63 characters, start and end with a letter or digit`);
  }
  return reasons;
}

function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

function jobReasons(spec: Body): string[] {
  const reasons: string[] = [];
  const template = (spec.template ?? {}) as Body;
  const podSpec = (template.spec ?? {}) as Body;
  if (spec.completionMode === 'Indexed' && typeof spec.completions !== 'number') reasons.push('spec.completions: Required value: when completion mode is Indexed');
  if (typeof spec.parallelism === 'number' && spec.parallelism < 0) reasons.push('spec.parallelism: must be greater than or equal to 0');
  if (!['Never', 'OnFailure'].includes(podSpec.restartPolicy as string)) reasons.push(`spec.template.spec.restartPolicy: Unsupported value: ${JSON.stringify(podSpec.restartPolicy)}: supported values: "OnFailure", "Never"`);
  reasons.push(...labelReasons('spec.template.metadata.labels', (template.metadata as Body | undefined)?.labels));
  if (podSpec.subdomain !== undefined && !(typeof podSpec.subdomain === 'string' && DNS1123_LABEL.test(podSpec.subdomain) && podSpec.subdomain.length <= 63)) reasons.push('spec.template.spec.subdomain: must be a DNS label');
  reasons.push(...labelReasons('spec.template.spec.nodeSelector', podSpec.nodeSelector));
  for (const [i, toleration] of ((podSpec.tolerations ?? []) as Body[]).entries()) {
    if (toleration.operator === 'Exists' && toleration.value) reasons.push(`spec.template.spec.tolerations[${i}].operator: value must be empty when operator is Exists`);
    if (toleration.effect !== undefined && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(toleration.effect as string)) reasons.push(`spec.template.spec.tolerations[${i}].effect: Unsupported value`);
  }
  const containers = (podSpec.containers ?? []) as Body[];
  if (containers.length === 0) reasons.push('spec.template.spec.containers: Required value');
  for (const [i, container] of containers.entries()) reasons.push(...containerReasons(`spec.template.spec.containers[${i}]`, container));
  return reasons;
}

function containerReasons(path: string, container: Body): string[] {
  const reasons: string[] = [];
  if (typeof container.name !== 'string' || !DNS1123_LABEL.test(container.name)) reasons.push(`${path}.name: must be a DNS label`);
  if (typeof container.image !== 'string' || container.image.trim() === '') reasons.push(`${path}.image: Required value`);
  for (const [i, env] of ((container.env ?? []) as Body[]).entries()) {
    if (typeof env.name !== 'string' || !ENV_NAME.test(env.name)) reasons.push(`${path}.env[${i}].name: Invalid value: ${JSON.stringify(env.name)}: a valid environment variable name`);
    if (env.value !== undefined && env.valueFrom !== undefined) reasons.push(`${path}.env[${i}].valueFrom: may not be specified when value is not empty`);
  }
  const resources = (container.resources ?? {}) as { requests?: Body; limits?: Body };
  for (const [kind, amounts] of Object.entries(resources)) {
    for (const [name, quantity] of Object.entries((amounts ?? {}) as Body)) {
      if (!isQuantity(quantity)) reasons.push(`${path}.resources.${kind}[${name}]: Invalid value: ${JSON.stringify(quantity)}: must be a quantity`);
      else if (EXTENDED(name) && !Number.isInteger(parseQuantity(quantity as string))) reasons.push(`${path}.resources.${kind}[${name}]: Invalid value: must be an integer`);
    }
  }
  for (const [name, request] of Object.entries(resources.requests ?? {})) {
    const limit = resources.limits?.[name];
    if (!isQuantity(request) || limit === undefined || !isQuantity(limit)) {
      if (EXTENDED(name) && limit === undefined) reasons.push(`${path}.resources.limits: Required value: limit must be set for non overcommitable resources (${name})`);
      continue;
    }
    if (parseQuantity(request as string) > parseQuantity(limit as string)) reasons.push(`${path}.resources.requests[${name}]: Invalid value: must be less than or equal to ${name} limit`);
    if (EXTENDED(name) && parseQuantity(request as string) !== parseQuantity(limit as string)) reasons.push(`${path}.resources.requests[${name}]: Invalid value: must be equal to ${name} limit`);
  }
  return reasons;
}

function serviceReasons(spec: Body): string[] {
  const reasons: string[] = [];
  const ports = (spec.ports ?? []) as Body[];
  if (spec.clusterIP !== 'None' && ports.length === 0) reasons.push('spec.ports: Required value');
  for (const [i, port] of ports.entries()) {
    if (typeof port.port !== 'number' || port.port < 1 || port.port > 65535) reasons.push(`spec.ports[${i}].port: must be between 1 and 65535`);
    if (ports.length > 1 && !port.name) reasons.push(`spec.ports[${i}].name: Required value`);
  }
  reasons.push(...labelReasons('spec.selector', spec.selector));
  return reasons;
}
