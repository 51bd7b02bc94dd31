import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

/** Bytes in a master key (AES-256). */
export const MASTER_KEY_LENGTH = 32;

/** A master key, the id wrapped keys name it by, and where it came from (for messages). */
export interface MasterKey {
  id: string;
  bytes: Buffer;
  source: string;
}

/**
 * The id of a master key: the first 8 bytes of a SHA-256 over it, in hex. Wrapped keys carry it,
 * so a kms-local holding several keys (during a rotation) knows which one unwraps each. It reveals
 * nothing usable about a 256-bit random key.
 */
export function masterKeyId(bytes: Uint8Array): string {
  return createHash('sha256').update('trellis kms-local master key id\0').update(bytes).digest().subarray(0, 8).toString('hex');
}

/** A loaded key, or why it could not be loaded (written for whoever configures the instance). */
export type Loaded = { key: MasterKey; readableByOthers: boolean } | { problem: string };

/** Reads a master key file: 32 raw bytes, or those bytes in base64 (standard or URL-safe), surrounding whitespace allowed. */
export async function loadKeyFile(path: string): Promise<Loaded> {
  let raw: Buffer;
  let mode: number;
  try {
    [raw, { mode }] = await Promise.all([readFile(path), stat(path)]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: `cannot read master key file ${path}: ${code === 'ENOENT' ? 'there is no such file' : (err as Error).message}` };
  }
  const readableByOthers = process.platform !== 'win32' && (mode & 0o077) !== 0;
  // 32 bytes that all are base64 text are a short key in base64: random bytes are that by a chance of 4^-32.
  const decoded = fromBase64(raw.toString('latin1').trim());
  if (raw.length === MASTER_KEY_LENGTH && !decoded) return { key: masterKey(raw, `file ${path}`), readableByOthers };
  if (decoded?.length === MASTER_KEY_LENGTH) return { key: masterKey(decoded, `file ${path}`), readableByOthers };
  const held = decoded ? `${decoded.length} bytes in base64` : `${raw.length} bytes`;
  return {
    problem: `master key file ${path} holds ${held}; a master key is ${MASTER_KEY_LENGTH} random bytes, raw or in base64 (make one with: openssl rand -out ${path} ${MASTER_KEY_LENGTH})`,
  };
}

/** Reads a master key from the environment variable `name`, in base64. */
export function loadKeyEnv(name: string, env: NodeJS.ProcessEnv = process.env): Loaded {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    return { problem: `environment variable ${name} is not set; it must hold the ${MASTER_KEY_LENGTH}-byte master key in base64 (openssl rand -base64 ${MASTER_KEY_LENGTH})` };
  }
  const decoded = fromBase64(value.trim());
  if (!decoded) return { problem: `environment variable ${name} is not base64; it must hold the ${MASTER_KEY_LENGTH}-byte master key in base64` };
  if (decoded.length !== MASTER_KEY_LENGTH) {
    return { problem: `environment variable ${name} holds ${decoded.length} bytes once decoded from base64; a master key is ${MASTER_KEY_LENGTH} random bytes (openssl rand -base64 ${MASTER_KEY_LENGTH})` };
  }
  return { key: masterKey(decoded, `environment variable ${name}`), readableByOthers: false };
}

function masterKey(bytes: Buffer, source: string): MasterKey {
  const copy = Buffer.from(bytes);
  bytes.fill(0);
  return { id: masterKeyId(copy), bytes: copy, source };
}

function fromBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) && !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}
