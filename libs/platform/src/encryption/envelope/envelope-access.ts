import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type EncryptionContext, isPluginError, type KeyManager, KeyNotFoundError, noopLogger, ObjectIntegrityError, type ObjectKey, type ObjectStore, type PluginLogger } from '@trellis/plugin-sdk';
import { partsMacMatches } from './cipher';
import { encodeHeader, HEADER_LENGTH, isEnvelope, parseHeader, plainSizeOf, SALT_LENGTH, type SegmentHeader } from './format';
import { type KeyRecord, readAll, readRecord, recordKeyOf } from './key-record';
import { type Segment, segmentsOf } from './layout';

/** A body's key record went missing between reading the body's header and the record: the object was replaced meanwhile. */
export class MissingRecord extends Error {}

/** The entry of a data key's encryption context that names its object's key. */
export const OBJECT_KEY_CONTEXT = 'trellis.object-key';

/** The encryption context of a data key: it opens only for this object at this key. */
export function contextOf(key: ObjectKey, objectId: Buffer): EncryptionContext {
  return { [OBJECT_KEY_CONTEXT]: key, 'trellis.object-id': objectId.toString('hex') };
}

/** The header of a new segment, with a fresh salt. */
export function newHeader(objectId: Buffer, partNumber: number): SegmentHeader {
  const salt = randomBytes(SALT_LENGTH);
  return { objectId, salt, partNumber, bytes: encodeHeader(objectId, salt, partNumber) };
}

/** The object id in an object's first bytes; undefined when it is not encrypted (or its header is unreadable). */
export function objectIdIn(prefix: Buffer): Buffer | undefined {
  if (!isEnvelope(prefix)) return undefined;
  const header = parseHeader(prefix);
  return typeof header === 'string' ? undefined : header.objectId;
}

/** What the encrypting store reads of the inner store and asks of the KMS, shared by its reads, writes and rewrapping. */
export class EnvelopeAccess {
  constructor(
    readonly inner: ObjectStore,
    readonly kms: KeyManager,
    readonly logger: PluginLogger = noopLogger,
  ) {}

  /** The first bytes of the object (as many as a header has); undefined when it does not exist. */
  async prefixOf(key: ObjectKey): Promise<Buffer | undefined> {
    try {
      return await this.storedRange(key, 0, HEADER_LENGTH);
    } catch (err) {
      if (isPluginError(err, 'OBJECT_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  /** The object id of the encrypted object at `key`; undefined when there is none (or it is unencrypted). */
  async objectIdOf(key: ObjectKey): Promise<Buffer | undefined> {
    const prefix = await this.prefixOf(key);
    return prefix && objectIdIn(prefix);
  }

  /** The plaintext size of the object whose stored size and first bytes these are, for `head` and `list` (which do not verify). */
  async plainSize(storedSize: number, prefix: Buffer): Promise<number> {
    if (!isEnvelope(prefix)) return storedSize;
    const header = parseHeader(prefix);
    if (typeof header === 'string' || header.partNumber === 0) return plainSizeOf(storedSize) ?? 0;
    const record = await readRecord(this.inner, header.objectId);
    return typeof record === 'object' ? (record.parts ?? []).reduce((sum, [, size]) => sum + size, 0) : 0;
  }

  /** Stored bytes [offset, offset + length) of the object, whole or as a stream; a range past its end means it was cut short. */
  async storedRange(key: ObjectKey, offset: number, length: number): Promise<Buffer>;
  async storedRange(key: ObjectKey, offset: number, length: number, stream: true): Promise<Readable>;
  async storedRange(key: ObjectKey, offset: number, length: number, stream?: true): Promise<Buffer | Readable> {
    let body: Readable;
    try {
      body = await this.inner.get(key, { range: { offset, length } });
    } catch (err) {
      if (offset > 0 && isPluginError(err, 'INVALID_RANGE')) throw new ObjectIntegrityError(key, `it is shorter than its chunks say (${offset} bytes or less)`, { cause: err });
      throw err;
    }
    return stream ? body : readAll(body);
  }

  /** The header in `bytes`; `ObjectIntegrityError` when they are not one. */
  header(key: ObjectKey, bytes: Buffer): SegmentHeader {
    const header = parseHeader(bytes);
    if (typeof header === 'string') throw new ObjectIntegrityError(key, header);
    return header;
  }

  /** The key record and unwrapped data key of the body whose header this is. */
  async dataKeyOf(key: ObjectKey, header: SegmentHeader): Promise<{ record: KeyRecord; dataKey: Uint8Array }> {
    const record = await readRecord(this.inner, header.objectId);
    if (record === undefined) throw new MissingRecord(`its key record ${recordKeyOf(header.objectId)} is missing`);
    if (typeof record === 'string') throw new ObjectIntegrityError(key, record);
    if (record.key !== key) throw new ObjectIntegrityError(key, `its key record is that of object ${JSON.stringify(record.key)}`);
    return { record, dataKey: await this.unwrap(key, record) };
  }

  /** The data key of `record`: a key that does not verify is an integrity failure; one the KMS lacks says which object needs it. */
  async unwrap(key: ObjectKey, record: KeyRecord): Promise<Uint8Array> {
    try {
      return await this.kms.unwrapKey(record.keyId, Buffer.from(record.wrappedKey, 'base64'), contextOf(key, Buffer.from(record.objectId, 'hex')));
    } catch (err) {
      if (isPluginError(err, 'INVALID_WRAPPED_KEY')) throw new ObjectIntegrityError(key, `its data key does not unwrap: ${err.message}`, { cause: err });
      if (isPluginError(err, 'KEY_NOT_FOUND')) {
        throw new KeyNotFoundError((err as KeyNotFoundError).keyId, `cannot decrypt object ${JSON.stringify(key)}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  /** The segments of a multipart body, once its list of parts verifies against the data key. */
  partsOf(key: ObjectKey, header: SegmentHeader, record: KeyRecord, dataKey: Uint8Array): Segment[] {
    const parts = record.parts;
    if (!parts || !record.partsMac || !partsMacMatches(dataKey, header.objectId, parts, record.partsMac)) {
      throw new ObjectIntegrityError(key, 'the list of parts in its key record does not verify');
    }
    if (parts[0]?.[0] !== header.partNumber) throw new ObjectIntegrityError(key, `it starts with part ${header.partNumber}, but its first part is ${parts[0]?.[0]}`);
    return segmentsOf(parts);
  }

  /** Removes a key record that no body names any more; a failure is logged, not thrown (the record is only garbage). */
  async dropRecord(objectId: Buffer): Promise<void> {
    await this.inner.delete(recordKeyOf(objectId)).catch((err: unknown) => this.logger.warn({ record: recordKeyOf(objectId), err }, 'could not remove the key record of a replaced object'));
  }
}
