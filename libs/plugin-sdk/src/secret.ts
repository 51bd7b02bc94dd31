import { z } from 'zod';

/**
 * The mark `secret()` puts on a schema. A `Symbol.for` key, so a host finds it on a schema made by
 * another copy of the SDK (a plugin may bundle its own).
 */
export const SECRET_MARK: unique symbol = Symbol.for('trellis.plugin-sdk.secret') as never;

/** The prefixes of the references a secret field holds in a stored or configured instance. */
export const SECRET_REFERENCE_PREFIXES = ['env:', 'file:', 'kms:'] as const;

/**
 * A config field that holds a secret (a password, an access key, a token). In a configured or
 * stored instance the field holds a reference, never the value: `env:NAME` (an environment
 * variable of the host), `file:/absolute/path` (a file's content, without its trailing newline), or
 * `kms:...` (a value the host wrapped with its KMS when it was given through the API). The host
 * resolves the reference just before `create()`, so the plugin gets the value; the host never
 * returns it from an API and never logs it.
 *
 * `schema` checks the resolved value (default: a non-empty string).
 *
 * @example
 * configSchema: z.object({ bucket: z.string(), secretAccessKey: secret() }).strict()
 */
export function secret(schema: z.ZodType<string> = z.string().min(1, 'must not be empty')): z.ZodType<string> {
  const marked = schema.clone();
  Object.defineProperty(marked, SECRET_MARK, { value: true, enumerable: false });
  return marked;
}

/** Whether `schema` was made by `secret()` (of this or another copy of the SDK). */
export function isSecretSchema(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as Record<symbol, unknown>)[SECRET_MARK] === true;
}
