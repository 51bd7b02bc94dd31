import type { JobSpec } from '@trellis/plugin-sdk';

/** A one-replica job of `command` that asks for one CPU and 64 MiB. */
export const job = (name: string, ...command: string[]): JobSpec => ({ name, command, resources: { cpus: 1, memoryBytes: 2 ** 26 } });
