import type { RequestContext } from '../http/request-context';
import { invalidValue, missingParameter } from './mlflow-errors';

const INTEGER = /^-?\d+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const SPECIAL_DOUBLES: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** A string field; absent (or null) is undefined, any other type a 400 naming `path`. */
export function readString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidValue(value, path);
  return value;
}

/** An int64 field, as a JSON number or a decimal string (the protobuf JSON mapping allows both). */
export function readInt64(value: unknown, path: string): bigint | undefined {
  if (value === undefined || value === null) return undefined;
  let parsed: bigint | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) parsed = BigInt(value);
  else if (typeof value === 'string' && INTEGER.test(value)) parsed = BigInt(value);
  if (parsed === undefined || parsed !== BigInt.asIntN(64, parsed)) throw invalidValue(value, path);
  return parsed;
}

/**
 * A double field: a JSON number, "NaN", "Infinity" or "-Infinity" (as MLflow's client sends what
 * JSON has no number for), or a numeric string. Booleans are refused, as MLflow refuses them.
 */
export function readDouble(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const special = SPECIAL_DOUBLES[value];
    if (special !== undefined) return special;
    if (NUMBER.test(value.trim())) return Number(value);
  }
  throw invalidValue(value, path);
}

/** An object field (a nested message); absent is undefined. */
export function readObject(value: unknown, path: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidValue(value, path);
  return value as Record<string, unknown>;
}

/** A repeated field; absent is empty. */
export function readArray(value: unknown, path: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidValue(value, path);
  return value;
}

/** `readString` that refuses absence, as MLflow's `_assert_required` does. */
export function requireString(value: unknown, path: string): string {
  const text = readString(value, path);
  if (text === undefined) throw missingParameter(path);
  return text;
}

/**
 * The fields of an MLflow request: the JSON body of a POST (or PATCH, DELETE), the query string of
 * a GET (or of a DELETE without a body), where a repeated field is a repeated key (`run_ids=a&run_ids=b`). Fields the gateway does
 * not know are ignored: MLflow clients add fields with every release.
 */
export class MlflowFields {
  private constructor(
    private readonly body: Readonly<Record<string, unknown>> | undefined,
    private readonly query: URLSearchParams | undefined,
  ) {}

  static async of(ctx: RequestContext): Promise<MlflowFields> {
    if (ctx.req.method === 'GET' || ctx.req.method === 'HEAD') return new MlflowFields(undefined, ctx.query);
    const json = await ctx.json();
    // MLflow's registry DELETEs carry their fields in a JSON body or, from other clients, in the query string.
    if (json === undefined && ctx.req.method === 'DELETE') return new MlflowFields(undefined, ctx.query);
    return MlflowFields.fromJson(json);
  }

  static fromJson(json: unknown): MlflowFields {
    return new MlflowFields(readObject(json, 'the request body') ?? {}, undefined);
  }

  static fromQuery(query: URLSearchParams): MlflowFields {
    return new MlflowFields(undefined, query);
  }

  /** The field as sent (for a GET, its first value). */
  value(name: string): unknown {
    return this.body ? this.body[name] : (this.query?.get(name) ?? undefined);
  }

  string(name: string): string | undefined {
    return readString(this.value(name), name);
  }

  requiredString(name: string): string {
    return requireString(this.value(name), name);
  }

  /** `run_id`, or the deprecated `run_uuid` older clients send instead. */
  runId(): string {
    const runId = this.string('run_id') || this.string('run_uuid');
    if (!runId) throw missingParameter('run_id');
    return runId;
  }

  int64(name: string): bigint | undefined {
    return readInt64(this.value(name), name);
  }

  /** A non-negative int32 field such as `max_results`, at most `limit` when given (as MLflow's handlers bound max_results). */
  count(name: string, limit = 2_147_483_647): number | undefined {
    const value = this.int64(name);
    if (value === undefined) return undefined;
    if (value < 0n || value > BigInt(limit)) throw invalidValue(this.value(name), name);
    return Number(value);
  }

  double(name: string): number | undefined {
    return readDouble(this.value(name), name);
  }

  /** A repeated string field. */
  strings(name: string): string[] {
    const values = this.body ? readArray(this.body[name], name) : (this.query?.getAll(name) ?? []);
    return values.map((value, index) => requireString(value, `${name}[${index}]`));
  }

  /** A repeated message field (JSON bodies only: MLflow sends none in a query string). */
  objects(name: string): Array<Record<string, unknown>> {
    return readArray(this.body?.[name], name).map((value, index) => readObject(value, `${name}[${index}]`) ?? {});
  }
}

/**
 * Tags or params (`[{"key": ..., "value": ...}]`): the key is required; so is the value when
 * `valueRequired` (params), else it defaults to "" (tags, as MLflow's RunTag value is optional).
 */
export function keyValuesOf(entries: readonly unknown[], path: string, valueRequired = false): Array<{ key: string; value: string }> {
  return entries.map((entry, index) => {
    const object = readObject(entry, `${path}[${index}]`) ?? {};
    const key = requireString(object.key, `${path}[${index}].key`);
    const value = valueRequired ? requireString(object.value, `${path}[${index}].value`) : (readString(object.value, `${path}[${index}].value`) ?? '');
    return { key, value };
  });
}
