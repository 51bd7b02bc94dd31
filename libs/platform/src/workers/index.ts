export { pause } from './leadership';
export type { Worker } from './worker';
