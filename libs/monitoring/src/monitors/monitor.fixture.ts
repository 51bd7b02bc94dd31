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
