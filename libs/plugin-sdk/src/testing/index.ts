/**
 * @trellis/plugin-sdk/testing: what a plugin's specs use. One conformance suite per contract
 * (each plugin's spec runs the suite of its kind), an in-memory reference implementation of each
 * contract that passes its suite, a test `PluginContext`, and `loadPluginInWorker` for runtime
 * plugins, which serving runs in worker threads.
 */
export { type ComputeConformanceJobs, type ComputeFactory, describeComputeConformance } from './compute.conformance';
export { describeDriftConformance, type DriftConformanceOptions, type DriftFactory } from './drift.conformance';
export { describeKmsConformance, type KmsConformanceKeys, type KmsFactory } from './kms.conformance';
export { describeNotifierConformance, type NotifierFactory, type NotifierReceiver, type ReceivedAlert } from './notifier.conformance';
export { describeRuntimeConformance, type RuntimeConformanceFixtures, type RuntimeFactory } from './runtime.conformance';
export { describeStorageConformance, ESCAPING_KEYS, type StorageFactory } from './storage.conformance';
export { createPluginInstance, createTestContext } from './test-context';
export { type JobProgram, type JobProgramIo, MEMORY_JOB_PROGRAMS, MemoryComputeBackend, type MemoryComputeOptions } from './memory-compute-backend';
export { MemoryDriftDetector, type MemoryDriftMethod } from './memory-drift-detector';
export { MemoryKeyManager } from './memory-key-manager';
export { LINEAR_JSON_FORMAT, type LinearModelFile, MemoryModelRuntime } from './memory-model-runtime';
export { MemoryNotifier } from './memory-notifier';
export { MemoryObjectStore, type StoredObject } from './memory-object-store';
/** Re-exported from the package's root, where the serving host takes it: specs load a runtime plugin as serving does. */
export { loadPluginInWorker, type WorkerModelRuntime, type WorkerPluginOptions } from '../runtime-worker';
