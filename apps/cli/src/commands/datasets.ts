import type { CommandGroup } from '../program';

/** `trellis datasets`: push, pull, diff and log, with progress bars and resumable uploads. */
export const registerDatasets: CommandGroup = () => {
  // Commands come with issue 19's data work.
};
