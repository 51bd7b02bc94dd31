import type { CommandGroup } from '../program';

/** `trellis jobs` and `trellis queues`: submit from a YAML file, follow logs, cancel, and the queue with reasons. */
export const registerJobs: CommandGroup = () => {
  // Commands come with issue 19's compute work.
};
