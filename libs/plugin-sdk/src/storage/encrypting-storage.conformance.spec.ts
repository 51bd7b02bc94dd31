import { MemoryKeyManager } from '../testing/memory-key-manager';
import { MemoryObjectStore } from '../testing/memory-object-store';
import { describeStorageConformance } from '../testing/storage.conformance';
import { encryptingObjectStore } from './encrypting-storage';

describeStorageConformance('encrypting every object, over the memory store', () =>
  encryptingObjectStore(new MemoryObjectStore(), new MemoryKeyManager(), { keyId: 'conformance', shouldEncrypt: () => true }),
);

describeStorageConformance('encrypting no object, over the memory store', () =>
  encryptingObjectStore(new MemoryObjectStore(), new MemoryKeyManager(), { keyId: 'conformance', shouldEncrypt: () => false }),
);
