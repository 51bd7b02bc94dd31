import type { CommandGroup } from '../program';

/** `trellis monitors` and `trellis alerts`. */
export const registerMonitors: CommandGroup = () => {
  // Commands come with issue 19's monitoring work.
};
