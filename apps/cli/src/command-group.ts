import type { Command } from 'commander';
import type { CliContext } from './context';

/** Adds a group of commands to the program; `context()` is the invocation's context (program.ts registers each group). */
export type CommandGroup = (program: Command, context: () => CliContext) => void;
