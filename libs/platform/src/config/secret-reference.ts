import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Which kind of secret reference `value` is written as (`env:NAME`, `file:/path`), well formed or
 * not; undefined for anything else (a plain value, a wrapped `kms:` value).
 */
export function secretReferenceKind(value: unknown): 'env' | 'file' | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.startsWith('env:')) return 'env';
  if (value.startsWith('file:')) return 'file';
  return undefined;
}

/**
 * What is wrong with the shape of an `env:` or `file:` reference, before anything is read: `env:`
 * not followed by a variable name, `file:` not followed by an absolute path. Undefined when it is
 * well formed, or not such a reference at all.
 */
export function secretReferenceProblem(value: string): string | undefined {
  const kind = secretReferenceKind(value);
  if (kind === 'env' && !ENV_NAME.test(value.slice(4))) return 'env: must be followed by an environment variable name (env:S3_SECRET_KEY)';
  if (kind === 'file' && !isAbsolute(value.slice(5))) return 'file: must be followed by an absolute path (file:/run/secrets/s3-key)';
  return undefined;
}

/**
 * The secret an `env:NAME` or `file:/path` reference points to, read now: the variable's value, or
 * the file's content without its trailing newline (so a rotated file is picked up at the next read).
 * Throws an Error whose message says what is wrong (`the environment variable S3_KEY is not set`,
 * `cannot read /run/secrets/key (ENOENT)`, an empty secret, a malformed reference) and never holds
 * a value: each caller puts the setting or config field it reads in front of it.
 */
export async function readSecretReference(reference: string): Promise<string> {
  const kind = secretReferenceKind(reference);
  if (!kind) throw new Error('is not a secret reference: write env:NAME or file:/absolute/path');
  const problem = secretReferenceProblem(reference);
  if (problem) throw new Error(problem);
  if (kind === 'env') {
    const name = reference.slice(4);
    const value = process.env[name];
    if (value === undefined) throw new Error(`the environment variable ${name} is not set`);
    if (value === '') throw new Error(`the environment variable ${name} is empty`);
    return value;
  }
  const path = reference.slice(5);
  const content = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${path} (${error.code ?? error.message})`);
  });
  const value = content.replace(/\r?\n$/, '');
  if (!value) throw new Error(`the file ${path} is empty`);
  return value;
}
