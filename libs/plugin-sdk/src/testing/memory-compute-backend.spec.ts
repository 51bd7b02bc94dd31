import { describeComputeConformance } from './compute.conformance';
import { MemoryComputeBackend } from './memory-compute-backend';

const resources = { cpus: 1, memoryBytes: 64 * 1024 * 1024 };

describeComputeConformance('memory (the test backend)', () => new MemoryComputeBackend(), {
  succeeding: (line) => ({ name: 'succeeds', command: ['echo', line], resources }),
  failing: () => ({ name: 'fails', command: ['exit', '3'], resources }),
  running: () => ({ name: 'runs', command: ['sleep', '3600'], resources }),
});
