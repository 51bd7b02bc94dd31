import type { Readable } from 'node:stream';
import { isPluginError, type ObjectStore } from '@trellis/plugin-sdk';
import type { PartEntry } from './cipher';

/** Where key records live in the wrapped store; keys under it are not objects of the wrapper's users. */
export const KEY_RECORDS_PREFIX = '.trellis-keys/';

/**
 * What the encrypting store keeps about one encrypted object (or multipart upload), in the inner
 * store at `.trellis-keys/<xx>/<object id>`, as JSON. The body names its record by object id, so
 * writers racing on a key never pair one's body with another's record. Only the wrapped data key
 * lives here (never in the body), so re-wrapping rewrites this record and not the body. `parts`
 * are bound to the data key by `partsMac`; `size`, `sha256` and `etag` are what `put` measured,
 * reported by `head` and not relied on for reading.
 */
export interface KeyRecord {
  format: 'trellis-encrypted-object';
  version: 1;
  /** The object's key: also bound into the wrapped key's encryption context. */
  key: string;
  /** Hex of the 16-byte id in the body's headers. */
  objectId: string;
  /** The KMS key id the data key is wrapped under. */
  keyId: string;
  /** The wrapped data key, base64. */
  wrappedKey: string;
  /** Multipart objects: part number and plaintext size of each part, in order. */
  parts?: PartEntry[];
  partsMac?: string;
  /** Objects from `put`: plaintext size and SHA-256, and the etag of the body they describe. */
  size?: number;
  sha256?: string;
  etag?: string;
}

/** The key of the record of `objectId`. */
export function recordKeyOf(objectId: Buffer): string {
  const hex = objectId.toString('hex');
  return `${KEY_RECORDS_PREFIX}${hex.slice(0, 2)}/${hex}`;
}

/** Whether `key` is the wrapper's own (a key record or their folder). */
export function isReservedKey(key: string): boolean {
  return key === KEY_RECORDS_PREFIX.slice(0, -1) || key.startsWith(KEY_RECORDS_PREFIX);
}

/** A new record for a data key. */
export function newRecord(key: string, objectId: Buffer, keyId: string, wrapped: Uint8Array): KeyRecord {
  return { format: 'trellis-encrypted-object', version: 1, key, objectId: objectId.toString('hex'), keyId, wrappedKey: Buffer.from(wrapped).toString('base64') };
}

/** The record of `objectId`: undefined when there is none, a string saying why when it is not a record. */
export async function readRecord(store: ObjectStore, objectId: Buffer): Promise<KeyRecord | undefined | string> {
  let text: string;
  try {
    text = (await readAll(await store.get(recordKeyOf(objectId)))).toString('utf8');
  } catch (err) {
    if (isPluginError(err, 'OBJECT_NOT_FOUND')) return undefined;
    throw err;
  }
  let record: Partial<KeyRecord>;
  try {
    record = JSON.parse(text) as Partial<KeyRecord>;
  } catch {
    return `its key record ${recordKeyOf(objectId)} is not JSON`;
  }
  const valid =
    record.format === 'trellis-encrypted-object' &&
    record.version === 1 &&
    typeof record.key === 'string' &&
    record.objectId === objectId.toString('hex') &&
    typeof record.keyId === 'string' &&
    typeof record.wrappedKey === 'string' &&
    (record.parts === undefined || (Array.isArray(record.parts) && record.parts.every(isPartEntry) && typeof record.partsMac === 'string'));
  return valid ? (record as KeyRecord) : `its key record ${recordKeyOf(objectId)} is not one for this object`;
}

/** Stores `record`, replacing the one of its object id. */
export async function writeRecord(store: ObjectStore, record: KeyRecord): Promise<void> {
  await store.put(recordKeyOf(Buffer.from(record.objectId, 'hex')), Buffer.from(JSON.stringify(record)));
}

function isPartEntry(entry: unknown): entry is PartEntry {
  return Array.isArray(entry) && entry.length === 2 && entry.every((n) => Number.isSafeInteger(n) && n >= 0);
}

/** Every byte of `stream`. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
