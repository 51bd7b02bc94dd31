import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type DataKey, type EncryptionContext, type KeyManager, MAX_MAC_DATA_BYTES } from '../contracts';
import { InvalidWrappedKeyError, KeyNotFoundError } from '../errors';

/**
 * The KMS contract in memory, for specs: every key id is served by one key that `rotate()` gives a
 * new version and `forget()` drops old versions of, as a real KMS rotates key material. A wrapped
 * key is the version (4 bytes), a 12-byte IV, the AES-256-GCM ciphertext and tag, with the key id
 * and context as associated data; a MAC is the version (4 bytes) and an HMAC-SHA256 under that
 * version and the key id. Not for production: the keys live only in this process.
 */
export class MemoryKeyManager implements KeyManager {
  private readonly versions = new Map<number, Buffer>();
  private current = 0;

  constructor() {
    this.rotate();
  }

  /** The version new wraps use; it counts from 1. */
  get currentVersion(): number {
    return this.current;
  }

  /** Makes a new version current; earlier versions still unwrap until forgotten. */
  rotate(): void {
    this.versions.set(++this.current, randomBytes(32));
  }

  /** Drops every version but the current one: what they wrapped no longer unwraps. */
  forget(): void {
    for (const version of this.versions.keys()) if (version !== this.current) this.versions.delete(version);
  }

  async generateDataKey(keyId: string, context?: EncryptionContext): Promise<DataKey> {
    const plaintext = randomBytes(32);
    return { keyId, plaintext, wrapped: await this.wrapKey(keyId, plaintext, context) };
  }

  async wrapKey(keyId: string, plaintext: Uint8Array, context?: EncryptionContext): Promise<Uint8Array> {
    const version = Buffer.alloc(4);
    version.writeUInt32BE(this.current);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.versions.get(this.current) as Buffer, iv);
    cipher.setAAD(associatedData(keyId, version, context));
    return Buffer.concat([version, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  async unwrapKey(keyId: string, wrapped: Uint8Array, context?: EncryptionContext): Promise<Uint8Array> {
    const bytes = Buffer.from(wrapped);
    if (bytes.length < 4 + 12 + 16) throw new InvalidWrappedKeyError(`a wrapped key is at least 32 bytes; this one is ${bytes.length}`);
    const version = bytes.readUInt32BE(0);
    const key = this.versions.get(version);
    if (!key) throw new KeyNotFoundError(`${keyId}@${version}`, `version ${version} of key ${keyId} is not held (forgotten)`);
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(4, 16));
    decipher.setAAD(associatedData(keyId, bytes.subarray(0, 4), context));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(16, bytes.length - 16)), decipher.final()]);
    } catch {
      throw new InvalidWrappedKeyError(`wrapped key does not verify for key ${keyId} and this context`);
    }
  }

  async mac(keyId: string, data: Uint8Array): Promise<Uint8Array> {
    checkMacData(data);
    const version = Buffer.alloc(4);
    version.writeUInt32BE(this.current);
    return Buffer.concat([version, this.hmac(keyId, this.current, data)]);
  }

  async verifyMac(keyId: string, data: Uint8Array, mac: Uint8Array): Promise<boolean> {
    checkMacData(data);
    const bytes = Buffer.from(mac);
    if (bytes.length !== 4 + 32) return false;
    return timingSafeEqual(bytes.subarray(4), this.hmac(keyId, bytes.readUInt32BE(0), data));
  }

  async rewrapKey(keyId: string, wrapped: Uint8Array, context?: EncryptionContext): Promise<Uint8Array> {
    const plaintext = await this.unwrapKey(keyId, wrapped, context);
    if (Buffer.from(wrapped).readUInt32BE(0) === this.current) return wrapped;
    return this.wrapKey(keyId, plaintext, context);
  }

  private hmac(keyId: string, version: number, data: Uint8Array): Buffer {
    const key = this.versions.get(version);
    if (!key) throw new KeyNotFoundError(`${keyId}@${version}`, `version ${version} of key ${keyId} is not held (forgotten)`);
    return createHmac('sha256', key).update(`mac\0${keyId}\0`).update(data).digest();
  }
}

function checkMacData(data: Uint8Array): void {
  if (data.length === 0 || data.length > MAX_MAC_DATA_BYTES) throw new TypeError(`a MAC is computed over 1 to ${MAX_MAC_DATA_BYTES} bytes, got ${data.length}`);
}

function associatedData(keyId: string, version: Buffer, context: EncryptionContext = {}): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.concat([version, Buffer.from(JSON.stringify([keyId, entries]))]);
}
