import type { CommandGroup } from '../program';

/** `trellis audit`: list, verify and export the hash-chained audit log. */
export const registerAudit: CommandGroup = () => {
  // Commands come with issue 19's governance work.
};
