import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type ConfigIssue, type KeyManager, PluginConfigError } from '@trellis/plugin-sdk';
import { readSecretReference, secretReferenceKind, secretReferenceProblem } from '../config/secret-reference';
import { type ConfigPath, formatPath, replaceAt, secretPaths, valueAt } from './config-schema-walk';

/** The KMS key id that wraps secrets given through the API. */
export const SECRETS_KEY_ID = 'trellis-plugin-secrets';

/** What an RPC returns in place of a secret the KMS wrapped: never the value, nor the wrapped bytes. */
export const WRAPPED_SECRET_MARKER = 'kms:(wrapped)';

/** Where the KMS that wraps and unwraps secrets comes from: asked only when a secret needs it. */
export type SecretsKms = () => Promise<KeyManager | undefined>;

/** Which instance a config belongs to, as config errors name it. */
export interface SecretOwner {
  kind: string;
  instance: string;
  plugin: string;
}

function refused(owner: SecretOwner, issues: ConfigIssue[]): PluginConfigError {
  return new PluginConfigError({ ...owner, issues });
}

/** A reference a secret field may hold, or undefined for a plain value. */
function referenceOf(value: unknown): 'env' | 'file' | 'kms' | undefined {
  return secretReferenceKind(value) ?? (typeof value === 'string' && value.startsWith('kms:') ? 'kms' : undefined);
}

/**
 * Refuses secrets written as plain values in the config file: there a secret field holds a
 * reference, `env:NAME` or `file:/path`. Also refuses malformed references.
 */
export function checkSecretReferences(schema: unknown, config: unknown, owner: SecretOwner): void {
  const issues: ConfigIssue[] = [];
  for (const path of secretPaths(schema, config)) {
    const value = valueAt(config, path);
    if (typeof value !== 'string') continue;
    const problem = referenceOf(value) === undefined ? 'is a secret: write a reference, env:NAME or file:/path, not the value' : secretReferenceProblem(value);
    if (problem) issues.push({ path: formatPath(path), message: problem });
  }
  if (issues.length) throw refused(owner, issues);
}

/**
 * The config to store for an instance given through the API: references kept, plain secret values
 * wrapped by `kms` (`kms:...`). Without a KMS a plain value is refused, naming the field, since it
 * would otherwise sit readable in the database. A `kms:` value that a client sends is refused too:
 * only the service wraps.
 */
export async function sealSecrets(schema: unknown, config: unknown, owner: SecretOwner, secretsKms: SecretsKms): Promise<unknown> {
  const paths = secretPaths(schema, config).filter((path) => typeof valueAt(config, path) === 'string');
  const issues: ConfigIssue[] = [];
  const sealed = new Map<string, string>();
  for (const path of paths) {
    const value = valueAt(config, path) as string;
    const kind = referenceOf(value);
    const problem = kind === 'kms' ? 'a kms: value is wrapped by the service; send the plain value or an env:/file: reference' : kind ? secretReferenceProblem(value) : undefined;
    if (problem) {
      issues.push({ path: formatPath(path), message: problem });
    } else if (!kind) {
      const kms = await secretsKms();
      if (!kms) {
        issues.push({ path: formatPath(path), message: 'is a secret and this service has no KMS instance to wrap it: send a reference, env:NAME or file:/path' });
      } else {
        sealed.set(formatPath(path), await wrapSecret(kms, value, contextOf(owner, path)));
      }
    }
  }
  if (issues.length) throw refused(owner, issues);
  return replaceAt(config, paths, (current, path) => sealed.get(formatPath(path)) ?? current);
}

/**
 * The config `create()` gets: each secret reference replaced by its value, read now (an
 * environment variable, a file's content without its trailing newline, a value unwrapped by
 * `kms`). A reference that cannot be read is a PluginConfigError naming the field and the
 * reference (never a value).
 */
export async function resolveSecrets(schema: unknown, config: unknown, owner: SecretOwner, secretsKms: SecretsKms): Promise<unknown> {
  const paths = secretPaths(schema, config).filter((path) => typeof valueAt(config, path) === 'string');
  const issues: ConfigIssue[] = [];
  const resolved = new Map<string, string>();
  for (const path of paths) {
    const value = valueAt(config, path) as string;
    try {
      resolved.set(formatPath(path), await resolveOne(value, secretsKms, contextOf(owner, path)));
    } catch (error) {
      issues.push({ path: formatPath(path), message: (error as Error).message });
    }
  }
  if (issues.length) throw refused(owner, issues);
  return replaceAt(config, paths, (current, path) => resolved.get(formatPath(path)) ?? current);
}

/** The config as an RPC shows it: env:/file: references as they are, wrapped values as {@link WRAPPED_SECRET_MARKER}. */
export function redactSecrets(schema: unknown, config: unknown): unknown {
  const paths = secretPaths(schema, config).filter((path) => referenceOf(valueAt(config, path)) !== 'env' && referenceOf(valueAt(config, path)) !== 'file');
  return replaceAt(config, paths, () => WRAPPED_SECRET_MARKER);
}

async function resolveOne(value: string, secretsKms: SecretsKms, context: Record<string, string>): Promise<string> {
  const kind = referenceOf(value);
  if (!kind) throw new Error('is a secret given as a plain value; write a reference, env:NAME or file:/path');
  if (kind !== 'kms') {
    try {
      return await readSecretReference(value);
    } catch (error) {
      // The caller names the field; the reference goes in front of the reason, never a value.
      throw new Error(`${value}: ${(error as Error).message}`, { cause: error });
    }
  }
  const kms = await secretsKms();
  if (!kms) throw new Error('was wrapped by a KMS, and this service has no KMS instance to unwrap it');
  return unwrapSecret(kms, value, context);
}

function contextOf(owner: SecretOwner, path: ConfigPath): Record<string, string> {
  return { purpose: 'plugin-secret', kind: owner.kind, instance: owner.instance, field: formatPath(path) };
}

interface WrappedSecret {
  v: 1;
  /** The data key, wrapped by the KMS. */
  w: string;
  /** AES-256-GCM nonce, ciphertext and tag, base64. */
  n: string;
  c: string;
  t: string;
}

async function wrapSecret(kms: KeyManager, value: string, context: Record<string, string>): Promise<string> {
  const key = await kms.generateDataKey(SECRETS_KEY_ID, context);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.plaintext, nonce);
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  key.plaintext.fill(0);
  const sealed: WrappedSecret = { v: 1, w: Buffer.from(key.wrapped).toString('base64'), n: nonce.toString('base64'), c: ciphertext.toString('base64'), t: cipher.getAuthTag().toString('base64') };
  return `kms:${Buffer.from(JSON.stringify(sealed)).toString('base64url')}`;
}

async function unwrapSecret(kms: KeyManager, value: string, context: Record<string, string>): Promise<string> {
  let sealed: WrappedSecret;
  try {
    sealed = JSON.parse(Buffer.from(value.slice(4), 'base64url').toString('utf8')) as WrappedSecret;
  } catch {
    throw new Error('holds a kms: value that is not one the service wrapped');
  }
  const dataKey = await kms.unwrapKey(SECRETS_KEY_ID, Buffer.from(sealed.w, 'base64'), context).catch((error: Error) => {
    throw new Error(`the KMS cannot unwrap it: ${error.message}`);
  });
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(sealed.n, 'base64'));
    decipher.setAuthTag(Buffer.from(sealed.t, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.c, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('holds a kms: value that does not verify (altered, or wrapped for another instance or field)');
  } finally {
    dataKey.fill(0);
  }
}
