import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { type DataKey, type EncryptionContext, InvalidWrappedKeyError, type KeyManager } from '@trellis/plugin-sdk';

const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The KMS contract (v1): a wrapped key is a format byte, a 12-byte IV, the AES-256-GCM ciphertext
 * and its tag. The key-encryption key of a key id is HMAC-SHA256(master key, key id), and the key
 * id and the context (entries sorted) are the associated data, so a wrapped key unwraps only under
 * its key id and its exact context.
 */
export class AesKeyManager implements KeyManager {
  constructor(private readonly masterKey: Buffer) {}

  async generateDataKey(keyId: string, context?: EncryptionContext): Promise<DataKey> {
    const plaintext = randomBytes(32);
    return { keyId, plaintext, wrapped: await this.wrapKey(keyId, plaintext, context) };
  }

  async wrapKey(keyId: string, plaintext: Uint8Array, context?: EncryptionContext): Promise<Uint8Array> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keyFor(keyId), iv);
    cipher.setAAD(associatedData(keyId, context));
    return Buffer.concat([Buffer.of(FORMAT), iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  async unwrapKey(keyId: string, wrapped: Uint8Array, context?: EncryptionContext): Promise<Uint8Array> {
    const bytes = Buffer.from(wrapped);
    if (bytes.length <= 1 + IV_BYTES + TAG_BYTES || bytes[0] !== FORMAT) {
      throw new InvalidWrappedKeyError(`not a key this KMS wrapped (${bytes.length} bytes, format ${bytes[0] ?? 'none'})`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.keyFor(keyId), bytes.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(associatedData(keyId, context));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new InvalidWrappedKeyError(`the wrapped key does not verify under key ${keyId} and this context`);
    }
  }

  private keyFor(keyId: string): Buffer {
    return createHmac('sha256', this.masterKey).update(`kek\0${keyId}`).digest();
  }
}

function associatedData(keyId: string, context: EncryptionContext = {}): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify([keyId, entries]));
}
