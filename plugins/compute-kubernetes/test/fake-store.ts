import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';

/** The resources the fake keeps, by the plural of their URL. */
export type Resource = 'jobs' | 'pods' | 'services' | 'nodes';

/** One change, as a watch sends it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: Resource;
  rv: number;
  object: KubernetesObject;
}

/** What a watch asked for. */
export interface WatchFilter {
  resource: Resource;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/**
 * The fake's etcd: objects by resource, one resourceVersion counter for all of them, and the last
 * `historyLimit` changes, so that a watch from an older resourceVersion than those gets 410 Gone.
 */
export class FakeStore {
  private rv = 1;
  private readonly objects = new Map<Resource, Map<string, KubernetesObject>>();
  private readonly history: WatchEvent[] = [];
  /** The newest resourceVersion no longer in `history`. */
  private compactedThrough = 0;
  private readonly listeners = new Set<(event: WatchEvent) => void>();

  constructor(private readonly historyLimit: number) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get<T extends KubernetesObject>(resource: Resource, namespace: string | undefined, name: string): T | undefined {
    return this.map(resource).get(key(namespace, name)) as T | undefined;
  }

  list<T extends KubernetesObject>(filter: WatchFilter): T[] {
    return [...this.map(filter.resource).values()].filter((object) => matches(object, filter)) as T[];
  }

  /** Adds `object` (fills uid, resourceVersion, creationTimestamp); false when the name is taken. */
  create<T extends KubernetesObject>(resource: Resource, object: T): T | undefined {
    const metadata = object.metadata ?? (object.metadata = {});
    const id = key(metadata.namespace, metadata.name ?? '');
    if (this.map(resource).has(id)) return undefined;
    metadata.uid = randomUUID();
    metadata.creationTimestamp = new Date();
    return this.write(resource, 'ADDED', object);
  }

  /** Stores a changed object (a copy a caller changed) as a new version. */
  update<T extends KubernetesObject>(resource: Resource, object: T): T {
    return this.write(resource, 'MODIFIED', object);
  }

  remove(resource: Resource, object: KubernetesObject): void {
    const id = key(object.metadata?.namespace, object.metadata?.name ?? '');
    if (!this.map(resource).delete(id)) return;
    this.record({ type: 'DELETED', resource, rv: ++this.rv, object: withVersion(object, this.rv) });
  }

  /** The changes after `since` that `filter` matches, or undefined when some of them are no longer kept (410 Gone). */
  changesSince(since: number, filter: WatchFilter): WatchEvent[] | undefined {
    if (since < this.compactedThrough) return undefined;
    return this.history.filter((event) => event.rv > since && event.resource === filter.resource && matches(event.object, filter));
  }

  /**
   * Forgets every change kept so far, as etcd's compaction does after other objects changed: a
   * watch from any resourceVersion given out before gets 410 Gone from now on.
   */
  compact(): void {
    this.compactedThrough = ++this.rv;
    this.history.length = 0;
  }

  onChange(listener: (event: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write<T extends KubernetesObject>(resource: Resource, type: WatchEvent['type'], object: T): T {
    const stored = withVersion(object, ++this.rv) as T;
    this.map(resource).set(key(stored.metadata?.namespace, stored.metadata?.name ?? ''), stored);
    this.record({ type, resource, rv: this.rv, object: stored });
    return stored;
  }

  private record(event: WatchEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) this.compactedThrough = this.history.splice(0, this.history.length - this.historyLimit).at(-1)?.rv ?? this.compactedThrough;
    for (const listener of this.listeners) listener(event);
  }

  private map(resource: Resource): Map<string, KubernetesObject> {
    let map = this.objects.get(resource);
    if (!map) this.objects.set(resource, (map = new Map()));
    return map;
  }
}

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** A deep copy with `resourceVersion` set: what is stored is never changed in place. */
function withVersion<T extends KubernetesObject>(object: T, rv: number): T {
  const copy = structuredClone(object);
  (copy.metadata ??= {}).resourceVersion = String(rv);
  return copy;
}

/** Whether `object` is in the namespace and matches the label and field selectors of `filter`. */
export function matches(object: KubernetesObject, filter: Omit<WatchFilter, 'resource'>): boolean {
  if (filter.namespace && object.metadata?.namespace !== filter.namespace) return false;
  if (filter.labelSelector && !matchesLabels(object.metadata?.labels ?? {}, filter.labelSelector)) return false;
  if (filter.fieldSelector && !matchesFields(object, filter.fieldSelector)) return false;
  return true;
}

/** Whether a label selector (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`) is valid. */
export function validSelector(selector: string): boolean {
  return requirements(selector).every((requirement) => requirement !== undefined);
}

type Requirement = { key: string; op: 'in' | 'notin' | 'exists' | '!exists'; values: string[] };

function requirements(selector: string): (Requirement | undefined)[] {
  const parts = selector.split(/,(?![^(]*\))/).map((part) => part.trim());
  return parts.filter((part) => part !== '').map((part) => {
    let match = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(part);
    if (match) return { key: match[1], op: match[2] === '!=' ? 'notin' : 'in', values: [match[3]] };
    match = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(part);
    if (match) return { key: match[1], op: match[2] as 'in' | 'notin', values: match[3].split(',').map((v) => v.trim()) };
    match = /^(!?)([^\s!=(),]+)$/.exec(part);
    if (match) return { key: match[2], op: match[1] ? '!exists' : 'exists', values: [] };
    return undefined;
  });
}

function matchesLabels(labels: Record<string, string>, selector: string): boolean {
  return requirements(selector).every((requirement) => {
    if (!requirement) return false;
    const value = labels[requirement.key];
    switch (requirement.op) {
      case 'in':
        return value !== undefined && requirement.values.includes(value);
      case 'notin':
        return value === undefined || !requirement.values.includes(value);
      case 'exists':
        return value !== undefined;
      case '!exists':
        return value === undefined;
    }
  });
}

function matchesFields(object: KubernetesObject, selector: string): boolean {
  return selector.split(',').every((part) => {
    const match = /^([a-zA-Z.]+)(==|=|!=)(.*)$/.exec(part.trim());
    if (!match) return false;
    let value: unknown = object;
    for (const step of match[1].split('.')) value = (value as Record<string, unknown> | undefined)?.[step];
    const equal = String(value ?? '') === match[3];
    return match[2] === '!=' ? !equal : equal;
  });
}
