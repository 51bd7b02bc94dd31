import { type DataKey, type EncryptionContext, type KeyManager, KeyNotFoundError, type ObjectKey, type ObjectStore } from '@trellis/plugin-sdk';
import { encryptingObjectStore } from './encrypting-storage';
import { OBJECT_KEY_CONTEXT } from './envelope/envelope-access';

/** The KMS key id that wraps the data keys of stored objects (each key record names the id it used). */
export const OBJECT_KEY_ID = 'trellis-objects';

/**
 * The store through which one encrypted resource (a run's artifacts) is written and read: every
 * new object is encrypted under `kms` (key id `trellis-objects`), and reads decrypt transparently,
 * with the plaintext's sizes in `head` and `list`. Objects stored in the clear before still read
 * as they are.
 */
export function encryptedAtRest(inner: ObjectStore, kms: KeyManager): ObjectStore {
  return encryptingObjectStore(inner, kms, { keyId: OBJECT_KEY_ID, shouldEncrypt: () => true });
}

/**
 * A store shared by resources that each decided at creation whether they are encrypted (a
 * registry's version copies): `kmsOf(key)` gives the KMS instance of the resource `key` belongs
 * to, or null when it is stored in the clear. New objects are encrypted when their resource is;
 * reads decrypt whatever was stored encrypted, through the KMS instance of its resource.
 */
export function encryptedPerResource(inner: ObjectStore, kmsOf: (key: ObjectKey) => Promise<KeyManager | null>): ObjectStore {
  const route = async (keyId: string, context: EncryptionContext | undefined): Promise<KeyManager> => {
    const key = context?.[OBJECT_KEY_CONTEXT] ?? '';
    const kms = await kmsOf(key);
    if (!kms) throw new KeyNotFoundError(keyId, `object ${JSON.stringify(key)} belongs to nothing that is encrypted, so no KMS instance holds its data key`);
    return kms;
  };
  const routed: KeyManager = {
    generateDataKey: async (keyId, context): Promise<DataKey> => (await route(keyId, context)).generateDataKey(keyId, context),
    wrapKey: async (keyId, plaintext, context) => (await route(keyId, context)).wrapKey(keyId, plaintext, context),
    unwrapKey: async (keyId, wrapped, context) => (await route(keyId, context)).unwrapKey(keyId, wrapped, context),
  };
  return encryptingObjectStore(inner, routed, { keyId: OBJECT_KEY_ID, shouldEncrypt: async (key) => (await kmsOf(key)) !== null });
}
