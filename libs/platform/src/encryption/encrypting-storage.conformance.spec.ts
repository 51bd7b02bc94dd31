import { MemoryKeyManager } from '@trellis/plugin-sdk/testing';
import { MemoryObjectStore } from '@trellis/plugin-sdk/testing';
import { describeStorageConformance } from '@trellis/plugin-sdk/testing';
import { encryptingObjectStore } from './encrypting-storage';

describeStorageConformance('encrypting every object, over the memory store', () =>
  encryptingObjectStore(new MemoryObjectStore(), new MemoryKeyManager(), { keyId: 'conformance', shouldEncrypt: () => true }),
);

describeStorageConformance('encrypting no object, over the memory store', () =>
  encryptingObjectStore(new MemoryObjectStore(), new MemoryKeyManager(), { keyId: 'conformance', shouldEncrypt: () => false }),
);
