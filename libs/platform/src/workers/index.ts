export type { Worker } from './worker';
