export { encryptingObjectStore, type EncryptingObjectStore, type EncryptingObjectStoreOptions, type RewrapReport } from './encrypting-storage';
export { KEY_RECORDS_PREFIX } from './envelope/key-record';
export { encryptedAtRest, encryptedPerResource } from './encrypted-at-rest';
export { writeKeyFileIfMissing } from './key-file';
export { DEFAULT_KMS, KmsInstances, OBJECT_KEY_ID, type KeyManagerSource } from './kms-instances';
export { ProjectEncryption } from './project-encryption';
