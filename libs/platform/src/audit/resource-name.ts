/**
 * One step of a resource name (docs/api-style.md, "Resource names"): a collection, plural and in
 * lower camel case (`models`, `apiKeys`), and the id or name of one member of it.
 */
export type ResourceNameStep = readonly [collection: string, id: string | number | bigint];

/**
 * The resource name of docs/api-style.md: each collection followed by the id or name of one of its
 * members, outermost first. `resourceName(['projects', 'p1'], ['models', 'churn'], ['aliases',
 * 'champion'])` is `projects/p1/models/churn/aliases/champion`; `resourceName(['runs', id])` is
 * `runs/<id>`. In ids and names, `%` and `/` are percent-encoded (`%25`, `%2F`) and nothing
 * else, so a name stays readable, one that holds `/` stays one segment, and `decodeURIComponent`
 * of each segment gives back the steps it was built from. Audit records, approvals and error
 * details all name resources with it, so that their names are equal strings.
 */
export function resourceName(...steps: ResourceNameStep[]): string {
  return steps.map(([collection, id]) => `${collection}/${segmentOf(String(id))}`).join('/');
}

function segmentOf(id: string): string {
  return id.replace(/%/g, '%25').replace(/\//g, '%2F');
}

/** How a kind's resources are named. */
interface KindNaming {
  collection: string;
  /** Named from the top (`runs/{run_id}`), not under their project. */
  topLevel?: true;
  /** Named under another resource: the service gives the full name, else the audit log names `collection` of the project. */
  nested?: true;
}

/**
 * Kinds not named `projects/{project_id}/<lower-camel plural of the kind>/{id}` (`Widget` ->
 * `widgets`). Runs are top-level as docs/api-style.md names them (`runs/{run_id}`), and so are the
 * org's principals, API keys and signing keys, which belong to no project. Model versions and
 * aliases live under a model, dataset versions under a dataset.
 */
const KIND_NAMING: Record<string, KindNaming> = {
  Project: { collection: 'projects', topLevel: true },
  Principal: { collection: 'principals', topLevel: true },
  ApiKey: { collection: 'apiKeys', topLevel: true },
  SigningKey: { collection: 'signingKeys', topLevel: true },
  Run: { collection: 'runs', topLevel: true },
  Audit: { collection: 'auditRecords' },
  Alias: { collection: 'models', nested: true },
  ModelVersion: { collection: 'models', nested: true },
  DatasetVersion: { collection: 'datasets', nested: true },
};

/** What the kit knows of a call's target: see `Caller.target`. */
export interface NamedTarget {
  kind: string;
  projectId: string;
  id?: string;
  /** The target's full resource name, when its service gave one (a resource under another, such as a model's alias). */
  name?: string;
}

/**
 * The resource name the audit log records for a call's target: `name` when the service gave one;
 * else the kind's collection, under the project when the kind lives in one, followed by `id` when
 * known (`projects/p1/experiments/7`, `runs/<run_id>`, `apiKeys/<id>`), or the collection alone
 * when the call named no member (a create refused before it had an id: `projects/p1/experiments`).
 * Empty when the call declared no kind.
 */
export function auditResourceName(target: NamedTarget): string {
  if (target.name) return target.name;
  if (!target.kind) return '';
  const naming = KIND_NAMING[target.kind] ?? { collection: `${target.kind.charAt(0).toLowerCase()}${target.kind.slice(1)}s` };
  const member = target.id && !naming.nested ? resourceName([naming.collection, target.id]) : naming.collection;
  return !naming.topLevel && target.projectId ? `${resourceName(['projects', target.projectId])}/${member}` : member;
}
