export { pause } from '@trellis/plugin-sdk';
export type { Worker } from './worker';
