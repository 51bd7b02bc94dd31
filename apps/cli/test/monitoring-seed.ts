// The CLI's monitoring specs seed what the UI's do, from the one seed both share: a test-only import
// across apps (no build depends on it), until the seed moves to @trellis/testing.
// eslint-disable-next-line @nx/enforce-module-boundaries
export { DRIFTING_COLUMN, seedDriftingMonitor, WINDOW_ROWS, type DriftingMonitor } from '../../web/e2e/monitoring-seed';
