import { NotFoundError, type PluginInstances } from '@trellis/platform';
import type { DriftDetector } from '@trellis/plugin-sdk';
import { MemoryDriftDetector } from '@trellis/plugin-sdk/testing';
import type { MonitorEntity } from './monitor.entity';

/** A monitor as CreateMonitor stores one before its reference is fitted, with `overrides`; for specs. */
export function pendingMonitor(overrides: Partial<MonitorEntity> = {}): MonitorEntity {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    projectId: 'p1',
    name: 'churn',
    description: '',
    creatorId: 'erin',
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    endpointName: 'churn',
    reference: { kind: 'log_window', rows: 100, origin: 'given' },
    windowRows: 1000,
    windowSeconds: 0,
    windowSlide: 1000,
    requestedColumns: [],
    tensorColumns: [],
    detectors: [],
    driftShare: 0.5,
    performance: null,
    state: 'pending',
    stateMessage: 'waiting for the first 100 logged rows',
    monitoredColumns: [],
    windowsClosed: 0,
    ...overrides,
  };
}

/** Drift instances by name as the service would hold them: the memory detectors standing in for drift-stats' methods. */
export const DETECTORS: Record<string, DriftDetector> = {
  ks: new MemoryDriftDetector('ks'),
  wasserstein: new MemoryDriftDetector('ks'),
  psi: new MemoryDriftDetector('psi'),
  'z-test': new MemoryDriftDetector('psi'),
  'chi-square': new MemoryDriftDetector('psi'),
  'jensen-shannon': new MemoryDriftDetector('psi'),
};

/** The service's drift instances, holding `DETECTORS`. */
export const driftInstances = {
  names: () => Object.keys(DETECTORS),
  has: (name: string) => name in DETECTORS,
  open: async (name: string) => {
    if (!(name in DETECTORS)) throw new NotFoundError(`no drift instance ${name}`);
    return DETECTORS[name];
  },
} as unknown as PluginInstances<'drift'>;
