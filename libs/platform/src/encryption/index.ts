export { encryptingObjectStore, type EncryptingObjectStore, type EncryptingObjectStoreOptions, type RewrapReport } from './encrypting-storage';
export { KEY_RECORDS_PREFIX } from './envelope/key-record';
