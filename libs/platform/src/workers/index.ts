export { pause } from '@trellis/plugin-sdk';
export type { Worker } from './worker';
export { WorkerSignal } from './worker-signal';
