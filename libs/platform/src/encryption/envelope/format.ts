/**
 * The layout of an encrypted object's body (format version 1). A body is one or more segments;
 * an object from `put` is one segment, one from a multipart upload has a segment per part.
 *
 *   segment = header (45 bytes) || sealed chunk*
 *   header  = magic (8) || version (1) || object id (16) || salt (16) || part number (4, big-endian; 0 for `put`)
 *   chunk   = AES-256-GCM ciphertext of up to CHUNK_SIZE plaintext bytes || tag (16)
 *
 * Every segment has at least one chunk (an empty object is one empty chunk); only the last chunk
 * of a segment may be short, and it is sealed with the "final" flag in its nonce, so a body cut
 * at a chunk boundary does not verify. See `cipher.ts` for the keys and nonces.
 */
export const MAGIC = Buffer.from([0x89, 0x54, 0x52, 0x4c, 0x45, 0x4e, 0x43, 0x0a]); // "\x89TRLENC\n", as PNG does
export const FORMAT_VERSION = 1;
export const OBJECT_ID_LENGTH = 16;
export const SALT_LENGTH = 16;
export const HEADER_LENGTH = MAGIC.length + 1 + OBJECT_ID_LENGTH + SALT_LENGTH + 4;
export const CHUNK_SIZE = 64 * 1024;
export const TAG_LENGTH = 16;
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_LENGTH;

/** A parsed segment header; `bytes` are the 45 bytes as stored (they key the segment). */
export interface SegmentHeader {
  objectId: Buffer;
  salt: Buffer;
  partNumber: number;
  bytes: Buffer;
}

/** The header of a new segment. */
export function encodeHeader(objectId: Buffer, salt: Buffer, partNumber: number): Buffer {
  const bytes = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(bytes, 0);
  bytes[MAGIC.length] = FORMAT_VERSION;
  objectId.copy(bytes, MAGIC.length + 1);
  salt.copy(bytes, MAGIC.length + 1 + OBJECT_ID_LENGTH);
  bytes.writeUInt32BE(partNumber, HEADER_LENGTH - 4);
  return bytes;
}

/** The header in `bytes` (exactly HEADER_LENGTH of them), or why it is not one. */
export function parseHeader(bytes: Buffer): SegmentHeader | string {
  if (bytes.length < HEADER_LENGTH) return `it ends inside a segment header (${bytes.length} of ${HEADER_LENGTH} bytes)`;
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return 'a segment header does not start with the format marker';
  const version = bytes[MAGIC.length];
  if (version !== FORMAT_VERSION) return `a segment header has format version ${version}; this SDK reads version ${FORMAT_VERSION}`;
  const start = MAGIC.length + 1;
  return {
    objectId: Buffer.from(bytes.subarray(start, start + OBJECT_ID_LENGTH)),
    salt: Buffer.from(bytes.subarray(start + OBJECT_ID_LENGTH, start + OBJECT_ID_LENGTH + SALT_LENGTH)),
    partNumber: bytes.readUInt32BE(HEADER_LENGTH - 4),
    bytes: Buffer.from(bytes.subarray(0, HEADER_LENGTH)),
  };
}

/**
 * Whether an object whose first bytes are `prefix` (up to HEADER_LENGTH of them) is in this
 * format. Objects that are not pass through as they are, so a single altered byte of the marker
 * must not make an encrypted object look unencrypted: 7 of the 8 marker bytes are enough, and so
 * are the first 4 or more of them when the object is shorter (it was cut inside its header). The
 * marker's 0x89 and 0x0a keep text and common binary formats from matching by chance.
 */
export function isEnvelope(prefix: Uint8Array): boolean {
  if (prefix.length >= MAGIC.length) {
    let same = 0;
    for (let i = 0; i < MAGIC.length; i++) if (prefix[i] === MAGIC[i]) same++;
    return same >= MAGIC.length - 1;
  }
  return prefix.length >= 4 && Buffer.from(prefix).equals(MAGIC.subarray(0, prefix.length));
}

/** How many chunks a segment of `plainSize` bytes has. */
export function chunkCount(plainSize: number): number {
  return Math.max(1, Math.ceil(plainSize / CHUNK_SIZE));
}

/** Stored bytes of a segment of `plainSize` bytes, header included. */
export function sealedSize(plainSize: number): number {
  return HEADER_LENGTH + plainSize + TAG_LENGTH * chunkCount(plainSize);
}

/** The plaintext size of a one-segment body of `stored` bytes; undefined when no plaintext size gives it. */
export function plainSizeOf(stored: number): number | undefined {
  const sealed = stored - HEADER_LENGTH;
  if (sealed < TAG_LENGTH) return undefined;
  const plain = sealed - TAG_LENGTH * Math.ceil(sealed / SEALED_CHUNK_SIZE);
  return sealedSize(plain) === stored ? plain : undefined;
}
