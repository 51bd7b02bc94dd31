import type { PluginInstance } from './plugin-instance';

/**
 * Authenticated data bound to a wrapped key (the names of the object it encrypts, say): unwrapping
 * needs exactly the same context, so a wrapped key cannot be moved to another object.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

/** A fresh data key: use `plaintext` and forget it, store `wrapped` next to the data. */
export interface DataKey {
  /** The key-encryption key that wrapped it. */
  keyId: string;
  /** 32 random bytes (AES-256). */
  plaintext: Uint8Array;
  /** `plaintext` encrypted under `keyId`; only `unwrapKey` of the same key and context opens it. */
  wrapped: Uint8Array;
}

/**
 * KMS contract, v1: envelope encryption. Key-encryption keys never leave the KMS; Trellis only ever
 * holds data keys, wrapped at rest. `unwrapKey` rejects a wrapped key that another key or another
 * context produced, or that was altered (`InvalidWrappedKeyError`), and one whose key the KMS no
 * longer holds (`KeyNotFoundError`).
 *
 * A `keyId` names a key-encryption key that stays the same across rotations: a KMS may rotate the
 * key material behind it, wrapping with the newest version and unwrapping with any version it
 * still holds, so a wrapped key records which version made it.
 */
export interface KeyManager extends PluginInstance {
  /** A new data key, returned both in the clear and wrapped by `keyId`. */
  generateDataKey(keyId: string, context?: EncryptionContext): Promise<DataKey>;
  /** Encrypts a data key under `keyId`. */
  wrapKey(keyId: string, plaintext: Uint8Array, context?: EncryptionContext): Promise<Uint8Array>;
  /** Decrypts a data key that `wrapKey` or `generateDataKey` of `keyId` produced with the same context. */
  unwrapKey(keyId: string, wrapped: Uint8Array, context?: EncryptionContext): Promise<Uint8Array>;
  /**
   * Re-wraps a data key under the current version of `keyId` (after a rotation) without the data
   * key leaving the KMS, so that older versions can be retired. Gives back bytes equal to `wrapped`
   * when it already is under the current version; throws as `unwrapKey` does. Optional: where a
   * KMS lacks it, a caller unwraps and wraps again.
   */
  rewrapKey?(keyId: string, wrapped: Uint8Array, context?: EncryptionContext): Promise<Uint8Array>;
  /**
   * A message authentication code (HMAC-SHA256 or the KMS's equivalent) over `data` (1 to
   * {@link MAX_MAC_DATA_BYTES} bytes) under the current version of `keyId`, so that whoever can
   * read `data` and the MAC but not the key can neither forge nor alter either unnoticed (governance
   * signs its audit chain's head so). The bytes name the key version that made them, as a wrapped
   * key does. Optional: a KMS that has `mac` has `verifyMac` too.
   */
  mac?(keyId: string, data: Uint8Array): Promise<Uint8Array>;
  /**
   * Whether `mac` is a MAC that `mac(keyId, data)` made under a version of `keyId` this KMS still
   * holds: false when `data` or `mac` was altered or `mac` is not one at all; `KeyNotFoundError`
   * when it names a version the KMS does not hold, which says nothing either way.
   */
  verifyMac?(keyId: string, data: Uint8Array, mac: Uint8Array): Promise<boolean>;
}

/** The most bytes `KeyManager.mac` takes at once (as cloud KMSes take): MAC a digest of anything longer. */
export const MAX_MAC_DATA_BYTES = 4096;
