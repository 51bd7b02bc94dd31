export { encryptingObjectStore, type EncryptingObjectStore, type EncryptingObjectStoreOptions, type RewrapReport } from './encrypting-storage';
export { KEY_RECORDS_PREFIX } from './envelope/key-record';
export { encryptedAtRest, encryptedPerResource, OBJECT_KEY_ID } from './encrypted-at-rest';
export { ProjectEncryption } from './project-encryption';
