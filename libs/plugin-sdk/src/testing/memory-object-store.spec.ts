import { describeStorageConformance } from './storage.conformance';
import { MemoryObjectStore } from './memory-object-store';

describeStorageConformance('memory (the test store)', () => new MemoryObjectStore());
