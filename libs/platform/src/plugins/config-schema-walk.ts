import { isSecretSchema } from '@trellis/plugin-sdk';

/** The parts of a zod 4 schema's definition the walk reads; schemas of another zod copy have the same shape. */
interface SchemaDef {
  type: string;
  shape?: Record<string, unknown>;
  catchall?: unknown;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
  getter?: () => unknown;
  options?: unknown[];
}

function defOf(schema: unknown): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
}

/** The schema under wrappers that keep a value's shape: optional, nullable, default, readonly, a pipe's input, lazy. */
function unwrapped(schema: unknown): unknown {
  for (let current = schema, depth = 0; depth < 32; depth++) {
    if (isSecretSchema(current)) return current;
    const def = defOf(current);
    if (!def) return current;
    if (['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)) current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else if (def.type === 'lazy' && def.getter) current = def.getter();
    else return current;
  }
  return schema;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One place in a config: its path as segments (keys and array indexes). */
export type ConfigPath = ReadonlyArray<string | number>;

/** `a.b[2].c`, as config errors name paths. */
export function formatPath(path: ConfigPath): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${part}`)).join('');
}

/**
 * The keys of `value` that an object schema of `schema` does not declare, with their paths: those
 * zod would silently drop (its default) and those a `.strict()` object refuses (reported here per
 * key, with its path). Objects that are `.loose()` or have a `.catchall()` keep them on purpose.
 */
export function unknownKeys(schema: unknown, value: unknown, path: ConfigPath = []): ConfigPath[] {
  const inner = unwrapped(schema);
  const def = defOf(inner);
  if (!def) return [];
  if (def.type === 'object' && def.shape && isRecord(value)) {
    const found: ConfigPath[] = [];
    for (const [key, child] of Object.entries(value)) {
      if (Object.hasOwn(def.shape, key)) found.push(...unknownKeys(def.shape[key], child, [...path, key]));
      else if (def.catchall === undefined || defOf(def.catchall)?.type === 'never') found.push([...path, key]);
    }
    return found;
  }
  if (def.type === 'array' && Array.isArray(value)) return value.flatMap((item, index) => unknownKeys(def.element, item, [...path, index]));
  return [];
}

/** The paths in `value` of the fields `schema` marks with `secret()`, where `value` has them. */
export function secretPaths(schema: unknown, value: unknown, path: ConfigPath = []): ConfigPath[] {
  const inner = unwrapped(schema);
  if (isSecretSchema(inner)) return value === undefined || value === null ? [] : [path];
  const def = defOf(inner);
  if (!def) return [];
  if (def.type === 'object' && def.shape && isRecord(value)) {
    return Object.entries(def.shape).flatMap(([key, child]) => (Object.hasOwn(value, key) ? secretPaths(child, value[key], [...path, key]) : []));
  }
  if (def.type === 'array' && Array.isArray(value)) return value.flatMap((item, index) => secretPaths(def.element, item, [...path, index]));
  // A union (a discriminated one, as compute-slurm's modes): a field any option marks is a secret.
  if (def.type === 'union' && def.options) {
    const found = new Map(def.options.flatMap((option) => secretPaths(option, value, path)).map((secret) => [formatPath(secret), secret]));
    return [...found.values()];
  }
  return [];
}

/** The value at `path` in `value`. */
export function valueAt(value: unknown, path: ConfigPath): unknown {
  return path.reduce<unknown>((current, part) => (current as Record<string | number, unknown> | undefined)?.[part], value);
}

/** A deep copy of `value` (plain JSON) with the value at each of `paths` replaced by what `replace` gives. */
export function replaceAt(value: unknown, paths: readonly ConfigPath[], replace: (current: unknown, path: ConfigPath) => unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  for (const path of paths) {
    if (path.length === 0) continue;
    const parent = valueAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
    const last = path[path.length - 1];
    parent[last] = replace(parent[last], path);
  }
  return copy;
}
