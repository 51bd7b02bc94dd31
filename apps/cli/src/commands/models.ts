import type { CommandGroup } from '../program';

/** `trellis models`: register versions, move aliases, and their history. */
export const registerModels: CommandGroup = () => {
  // Commands come with issue 19's registry work.
};
