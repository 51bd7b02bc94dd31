/**
 * @trellis/plugin-sdk/testing: what a plugin's specs use. One conformance suite per contract
 * (each plugin's spec runs the suite of its kind) and a test `PluginContext`.
 */
export { describeStorageConformance, ESCAPING_KEYS, type StorageFactory } from './storage.conformance';
export { createPluginInstance, createTestContext } from './test-context';
export { MemoryKeyManager } from './memory-key-manager';
export { MemoryObjectStore, type StoredObject } from './memory-object-store';
