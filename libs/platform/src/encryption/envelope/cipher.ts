import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { type SegmentHeader, TAG_LENGTH } from './format';

const SEGMENT_INFO = Buffer.from('trellis encrypted object v1: segment key\0');
const PARTS_INFO = Buffer.from('trellis encrypted object v1: parts key\0');

/**
 * The AES-256 key of one segment: HKDF-SHA256 of the object's data key, salted with the segment's
 * random salt, over its whole header. Each segment (each `put`, each upload of a part) has its own
 * key, so chunk nonces never repeat under one key however often a part is uploaded again, and a
 * change to any header byte (object id, part number, version) makes every chunk fail to verify.
 */
export function segmentKey(dataKey: Uint8Array, header: Pick<SegmentHeader, 'salt' | 'bytes'>): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, header.salt, Buffer.concat([SEGMENT_INFO, header.bytes]), 32));
}

/** The nonce of chunk `index` of a segment: a counter, and a flag on the segment's last chunk. */
function nonce(index: number, final: boolean): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(index, 7);
  bytes[11] = final ? 1 : 0;
  return bytes;
}

/** Chunk `index` of a segment, sealed: ciphertext followed by the 16-byte tag. */
export function sealChunk(key: Buffer, index: number, final: boolean, plain: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce(index, final), { authTagLength: TAG_LENGTH });
  return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** The plaintext of a sealed chunk, or undefined when it does not verify at that index and finality. */
export function openChunk(key: Buffer, index: number, final: boolean, sealed: Buffer): Buffer | undefined {
  if (sealed.length < TAG_LENGTH) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(index, final), { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
  try {
    return Buffer.concat([plain, decipher.final()]);
  } catch {
    return undefined;
  }
}

/** A part of a multipart object as its key record lists it: part number and plaintext size. */
export type PartEntry = readonly [partNumber: number, size: number];

/** The MAC that binds a multipart object's list of parts to its data key, hex. */
export function partsMac(dataKey: Uint8Array, objectId: Buffer, parts: readonly PartEntry[]): string {
  const key = Buffer.from(hkdfSync('sha256', dataKey, objectId, PARTS_INFO, 32));
  return createHmac('sha256', key).update(JSON.stringify(parts)).digest('hex');
}

/** Whether `mac` is the parts MAC of `parts`. */
export function partsMacMatches(dataKey: Uint8Array, objectId: Buffer, parts: readonly PartEntry[], mac: string): boolean {
  const expected = Buffer.from(partsMac(dataKey, objectId, parts), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
