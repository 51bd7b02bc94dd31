export { toWire, wireField } from './to-wire';
export type { WireMessage, WireShape, WireValue } from './wire-message';
export type { Int64Value } from './wire-buffer';
