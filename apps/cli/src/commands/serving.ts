import type { CommandGroup } from '../program';

/** `trellis endpoints`, `trellis deploy`, `trellis predict` and `trellis rollback`. */
export const registerServing: CommandGroup = () => {
  // Commands come with issue 19's serving work.
};
