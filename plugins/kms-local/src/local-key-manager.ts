import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { type DataKey, type EncryptionContext, InvalidWrappedKeyError, type KeyManager, KeyNotFoundError, MAX_MAC_DATA_BYTES } from '@trellis/plugin-sdk';
import type { MasterKey } from './master-keys';

const FORMAT_VERSION = 1;
const ID_LENGTH = 8;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const PREFIX_LENGTH = 1 + ID_LENGTH;
const DATA_KEY_LENGTH = 32;
const MAX_KEY_ID_LENGTH = 256;
const MAC_LENGTH = 32;

/**
 * Envelope encryption under a master key this process holds. A wrapped key is
 *
 *   version (1 byte, 1) || master key id (8) || IV (12) || AES-256-GCM ciphertext || tag (16)
 *
 * with the version and master key id, the key id and the encryption context as associated data,
 * so it opens only under the same key id and context. New wraps use the current master key;
 * unwrapping uses whichever configured key the wrapped key names, so a rotation keeps old data
 * keys readable until `rewrapKey` has moved them to the current key.
 *
 * A MAC is version (1) || master key id (8) || HMAC-SHA256 (32), keyed by HKDF-SHA256 of the
 * master key with the key id in its info, so each key id has a key of its own and a MAC made
 * before a rotation verifies while its master key is configured.
 */
export class LocalKeyManager implements KeyManager {
  private readonly keys = new Map<string, MasterKey>();
  private closed = false;

  constructor(
    private readonly instanceName: string,
    private readonly current: MasterKey,
    previous: readonly MasterKey[],
  ) {
    for (const key of [current, ...previous]) if (!this.keys.has(key.id)) this.keys.set(key.id, key);
  }

  /** The id of the master key that new wraps use. */
  get currentMasterKeyId(): string {
    return this.current.id;
  }

  async generateDataKey(keyId: string, context?: EncryptionContext): Promise<DataKey> {
    const plaintext = randomBytes(DATA_KEY_LENGTH);
    return { keyId, plaintext, wrapped: await this.wrapKey(keyId, plaintext, context) };
  }

  async wrapKey(keyId: string, plaintext: Uint8Array, context?: EncryptionContext): Promise<Uint8Array> {
    this.checkOpen();
    checkKeyId(keyId);
    if (!(plaintext instanceof Uint8Array) || plaintext.length === 0 || plaintext.length > 1024) {
      throw new TypeError(`kms-local wraps data keys of 1 to 1024 bytes, got ${plaintext instanceof Uint8Array ? `${plaintext.length} bytes` : typeof plaintext}`);
    }
    const prefix = Buffer.concat([Buffer.from([FORMAT_VERSION]), Buffer.from(this.current.id, 'hex')]);
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(associatedData(prefix, keyId, context));
    return Buffer.concat([prefix, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  async unwrapKey(keyId: string, wrapped: Uint8Array, context?: EncryptionContext): Promise<Uint8Array> {
    this.checkOpen();
    checkKeyId(keyId);
    const bytes = Buffer.from(wrapped);
    if (bytes.length <= PREFIX_LENGTH + IV_LENGTH + TAG_LENGTH || bytes[0] !== FORMAT_VERSION) {
      throw new InvalidWrappedKeyError(`this is not a data key kms-local wrapped (${bytes.length} bytes, format version ${bytes[0]}; kms-local writes version ${FORMAT_VERSION})`);
    }
    const master = this.masterKeyOf(bytes);
    const iv = bytes.subarray(PREFIX_LENGTH, PREFIX_LENGTH + IV_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', master.bytes, iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(associatedData(bytes.subarray(0, PREFIX_LENGTH), keyId, context));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_LENGTH));
    const plaintext = decipher.update(bytes.subarray(PREFIX_LENGTH + IV_LENGTH, bytes.length - TAG_LENGTH));
    try {
      return Buffer.concat([plaintext, decipher.final()]);
    } catch {
      throw new InvalidWrappedKeyError(
        `wrapped data key does not verify under master key ${master.id} for key id ${JSON.stringify(keyId)}: it was altered, or wrapped for another key id or encryption context`,
      );
    } finally {
      plaintext.fill(0);
    }
  }

  async rewrapKey(keyId: string, wrapped: Uint8Array, context?: EncryptionContext): Promise<Uint8Array> {
    const plaintext = await this.unwrapKey(keyId, wrapped, context);
    try {
      return this.masterKeyOf(Buffer.from(wrapped)) === this.current ? wrapped : await this.wrapKey(keyId, plaintext, context);
    } finally {
      plaintext.fill(0);
    }
  }

  async mac(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    this.checkOpen();
    checkKeyId(keyId);
    checkMacData(data);
    const prefix = Buffer.concat([Buffer.from([FORMAT_VERSION]), Buffer.from(this.current.id, 'hex')]);
    return Buffer.concat([prefix, hmac(this.current, keyId, data)]);
  }

  async verifyMac(keyId: string, data: Uint8Array, mac: Uint8Array): Promise<boolean> {
    this.checkOpen();
    checkKeyId(keyId);
    checkMacData(data);
    const bytes = Buffer.from(mac);
    if (bytes.length !== PREFIX_LENGTH + MAC_LENGTH || bytes[0] !== FORMAT_VERSION) return false;
    return timingSafeEqual(bytes.subarray(PREFIX_LENGTH), hmac(this.masterKeyOf(bytes, 'the MAC was made'), keyId, data));
  }

  /** Forgets the master keys (overwriting them in memory); the instance refuses calls from then on. */
  close(): void {
    this.closed = true;
    for (const key of this.keys.values()) key.bytes.fill(0);
  }

  /** The master key that `bytes` (a wrapped key or a MAC, by `made`) names in its prefix. */
  private masterKeyOf(bytes: Buffer, made = 'the data key was wrapped'): MasterKey {
    const id = bytes.subarray(1, PREFIX_LENGTH).toString('hex');
    const master = this.keys.get(id);
    if (master) return master;
    const previous = [...this.keys.keys()].filter((k) => k !== this.current.id);
    const holds = `${this.current.id} (current)${previous.length ? ` and ${previous.join(', ')} (previous)` : ''}`;
    throw new KeyNotFoundError(
      id,
      `${made} by master key ${id}, which kms-local instance "${this.instanceName}" does not hold (it holds ${holds}); add that key to previousMasterKeyFiles or previousMasterKeyEnvs until every data key is rewrapped`,
    );
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`kms-local instance "${this.instanceName}" is closed`);
  }
}

function checkKeyId(keyId: unknown): void {
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > MAX_KEY_ID_LENGTH) {
    throw new TypeError(`a key id is a string of 1 to ${MAX_KEY_ID_LENGTH} characters, got ${JSON.stringify(keyId)}`);
  }
}

function checkMacData(data: unknown): void {
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length > MAX_MAC_DATA_BYTES) {
    throw new TypeError(`kms-local computes MACs over 1 to ${MAX_MAC_DATA_BYTES} bytes, got ${data instanceof Uint8Array ? `${data.length} bytes` : typeof data}`);
  }
}

function hmac(master: MasterKey, keyId: string, data: Uint8Array): Buffer {
  const key = Buffer.from(hkdfSync('sha256', master.bytes, Buffer.alloc(0), Buffer.from(`trellis kms-local mac v1\0${keyId}`), MAC_LENGTH));
  try {
    return createHmac('sha256', key).update(data).digest();
  } finally {
    key.fill(0);
  }
}

/** What a wrapped key is bound to: its own prefix, the key id, and the context (entries in a fixed order). */
function associatedData(prefix: Buffer, keyId: string, context: EncryptionContext = {}): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, value] of entries) if (typeof value !== 'string') throw new TypeError(`encryption context values are strings; ${name} is ${typeof value}`);
  return Buffer.concat([prefix, Buffer.from(JSON.stringify(['trellis kms-local v1', keyId, entries]))]);
}
