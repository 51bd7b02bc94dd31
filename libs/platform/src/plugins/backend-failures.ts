import type { PluginErrorCode, PluginKind } from '@trellis/plugin-sdk';
import { DomainError, UnavailableError } from '../errors';

/** The reason of the UNAVAILABLE a call answers when a plugin's backend fails. */
export const PLUGIN_BACKEND_FAILED = 'PLUGIN_BACKEND_FAILED';

/** How long a client should wait before retrying a call whose backend failed. */
const RETRY_AFTER_SECONDS = 5;

// A Record over the union, so a code the SDK adds fails to compile here until it is listed.
const CONTRACT_CODES: Readonly<Record<PluginErrorCode, true>> = {
  OBJECT_NOT_FOUND: true,
  INVALID_KEY: true,
  INVALID_RANGE: true,
  UPLOAD_NOT_FOUND: true,
  INVALID_PART: true,
  OBJECT_INTEGRITY: true,
  KEY_NOT_FOUND: true,
  INVALID_WRAPPED_KEY: true,
  JOB_NOT_FOUND: true,
  PLUGIN_CONFIG: true,
};

/** Which instance a failure came from. */
export interface InstanceIdentity {
  kind: PluginKind;
  /** The instance's name. */
  name: string;
  /** Its plugin's id. */
  plugin: string;
}

/** Whether `error` is one of the contract's own errors (or already a kit error), which callers map themselves. */
function passesThrough(error: unknown): boolean {
  if (error instanceof DomainError) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && Object.hasOwn(CONTRACT_CODES, code);
}

/**
 * The error a call answers when an instance's backend failed with anything but a contract error
 * (a bucket out of reach, a disk full, a bug in the plugin): UNAVAILABLE with reason
 * `PLUGIN_BACKEND_FAILED`, the plugin's message, and the kind, instance and plugin in its metadata.
 */
export function backendFailure(identity: InstanceIdentity, error: unknown): unknown {
  if (passesThrough(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new UnavailableError(`${identity.kind} instance "${identity.name}" (plugin ${identity.plugin}) failed: ${message}`, {
    reason: PLUGIN_BACKEND_FAILED,
    metadata: { kind: identity.kind, instance: identity.name, plugin: identity.plugin },
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
}

const UNGUARDED = new Set<PropertyKey>(['close', 'health', 'then']);

/**
 * `instance` with every method's failure mapped by {@link backendFailure}: thrown errors,
 * rejected promises and errors while iterating an async iterable it returns (not a stream, which
 * its reader handles). Properties that are not functions pass through.
 */
export function guardInstance<T extends object>(identity: InstanceIdentity, instance: T): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(instance, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || UNGUARDED.has(property)) return value;
      let guarded = wrapped.get(property);
      if (!guarded) {
        const method = value as (...args: unknown[]) => unknown;
        guarded = (...args: unknown[]) => {
          let result: unknown;
          try {
            result = method.apply(target, args);
          } catch (error) {
            throw backendFailure(identity, error);
          }
          return guardResult(identity, result);
        };
        wrapped.set(property, guarded);
      }
      return guarded;
    },
  });
}

function guardResult(identity: InstanceIdentity, result: unknown): unknown {
  if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
    return Promise.resolve(result).catch((error: unknown) => {
      throw backendFailure(identity, error);
    });
  }
  const iterable = result as { [Symbol.asyncIterator]?: unknown; pipe?: unknown } | null;
  if (iterable && typeof iterable === 'object' && typeof iterable[Symbol.asyncIterator] === 'function' && typeof iterable.pipe !== 'function') {
    return guardIterable(identity, result as AsyncIterable<unknown>);
  }
  return result;
}

async function* guardIterable(identity: InstanceIdentity, source: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  try {
    yield* source;
  } catch (error) {
    throw backendFailure(identity, error);
  }
}
