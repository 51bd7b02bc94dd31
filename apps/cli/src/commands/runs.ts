import type { CommandGroup } from '../program';

/** `trellis experiments` and `trellis runs`: list, show, compare, and a metric as a sparkline. */
export const registerRuns: CommandGroup = () => {
  // Commands come with issue 19's tracking work.
};
