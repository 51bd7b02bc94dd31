/**
 * What a host can rely on to map a plugin error without `instanceof` (a plugin may bundle its own
 * copy of the SDK): every error below carries one of these codes.
 */
export type PluginErrorCode =
  | 'OBJECT_NOT_FOUND'
  | 'INVALID_KEY'
  | 'INVALID_RANGE'
  | 'UPLOAD_NOT_FOUND'
  | 'INVALID_PART'
  | 'OBJECT_INTEGRITY'
  | 'KEY_NOT_FOUND'
  | 'INVALID_WRAPPED_KEY'
  | 'JOB_NOT_FOUND'
  | 'PLUGIN_CONFIG';

/** Base of the errors plugins throw and hosts map; the message is written for the person reading it. */
export abstract class PluginError extends Error {
  /** Stable code a host maps to its own error (e.g. OBJECT_NOT_FOUND to gRPC NOT_FOUND). */
  abstract readonly code: PluginErrorCode;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Whether `err` is a plugin error with `code`, also when it comes from another copy of the SDK. */
export function isPluginError(err: unknown, code: PluginErrorCode): err is PluginError {
  return err instanceof Error && (err as Partial<PluginError>).code === code;
}

/** A storage object that does not exist was read. */
export class ObjectNotFoundError extends PluginError {
  readonly code = 'OBJECT_NOT_FOUND';
  constructor(readonly key: string) {
    super(`object ${JSON.stringify(key)} does not exist`);
  }
}

/** An object key breaks the key rules of the storage contract; `reason` says which. */
export class InvalidKeyError extends PluginError {
  readonly code = 'INVALID_KEY';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
  }
}

/** A byte range that does not fit the object was requested. */
export class InvalidRangeError extends PluginError {
  readonly code = 'INVALID_RANGE';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`invalid range for object ${JSON.stringify(key)}: ${reason}`);
  }
}

/** A multipart upload that does not exist (never created, completed or aborted) was used. */
export class UploadNotFoundError extends PluginError {
  readonly code = 'UPLOAD_NOT_FOUND';
  constructor(
    readonly key: string,
    readonly uploadId: string,
  ) {
    super(`multipart upload ${JSON.stringify(uploadId)} of object ${JSON.stringify(key)} does not exist (completed, aborted or never created)`);
  }
}

/** The parts given to complete a multipart upload are wrong: missing, out of order, too small or with a stale etag. */
export class InvalidPartError extends PluginError {
  readonly code = 'INVALID_PART';
}

/**
 * A stored object failed its integrity check: a byte of it was altered, part of it was dropped,
 * reordered or cut off, or it was moved to another key. Reading it fails rather than returning
 * plaintext that was not written; `detail` says what was found, for whoever investigates.
 */
export class ObjectIntegrityError extends PluginError {
  readonly code = 'OBJECT_INTEGRITY';
  constructor(
    readonly key: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`object ${JSON.stringify(key)} failed its integrity check: it was altered or truncated (${detail})`, options);
  }
}

/**
 * A KMS was asked to use a key it does not hold: `keyId` names it (for kms-local, the id of a
 * master key that is no longer configured). The message says how to make the key available.
 */
export class KeyNotFoundError extends PluginError {
  readonly code = 'KEY_NOT_FOUND';
  constructor(
    readonly keyId: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A wrapped data key did not verify: it was altered, is not in the KMS's format, or was wrapped
 * under another key id or encryption context than the one given to unwrap it.
 */
export class InvalidWrappedKeyError extends PluginError {
  readonly code = 'INVALID_WRAPPED_KEY';
}

/** A compute job id that the backend does not know was used. */
export class JobNotFoundError extends PluginError {
  readonly code = 'JOB_NOT_FOUND';
  constructor(readonly jobId: string) {
    super(`job ${JSON.stringify(jobId)} does not exist`);
  }
}

/** One reason a config was refused: where in the config (`root`, `limits.maxBytes`, `hosts[0]`) and why. */
export interface ConfigIssue {
  /** Dotted path into the config; empty for the config as a whole. */
  path: string;
  /** Why the value at `path` was refused. */
  message: string;
}

/**
 * The config of a named instance is refused: the host throws it when the config does not match the
 * plugin's `configSchema`, and a plugin's `create()` may throw it for what no schema can check (a
 * key file that is missing or too short).
 */
export class PluginConfigError extends PluginError {
  readonly code = 'PLUGIN_CONFIG';
  /** The instance, its kind and plugin id, as configured. */
  readonly instance: string;
  readonly kind: string;
  readonly plugin: string;
  /** Every failing config path with its reason. */
  readonly issues: readonly ConfigIssue[];
  constructor(details: { instance: string; kind: string; plugin: string; issues: readonly ConfigIssue[] }) {
    const reasons = details.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    super(`${details.kind} instance "${details.instance}" (plugin ${details.plugin}) has an invalid config: ${reasons}`);
    this.instance = details.instance;
    this.kind = details.kind;
    this.plugin = details.plugin;
    this.issues = details.issues;
  }
}
