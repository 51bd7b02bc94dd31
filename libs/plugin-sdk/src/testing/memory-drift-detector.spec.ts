import { describeDriftConformance } from './drift.conformance';
import { MemoryDriftDetector } from './memory-drift-detector';

describeDriftConformance('memory ks (a p-value)', () => new MemoryDriftDetector('ks'));
describeDriftConformance('memory psi (a distance)', () => new MemoryDriftDetector('psi'));
