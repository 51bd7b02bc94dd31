import type { CommandGroup } from '../program';

/** `trellis admin`: users and service accounts, API keys, role bindings. */
export const registerAdmin: CommandGroup = () => {
  // Commands come with issue 19's governance work.
};
