import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes';
import type { CommandGroup } from '../command-group';

/** `trellis completion bash|zsh`: a completion script made from the program's own commands and options. */
export const registerCompletion: CommandGroup = (program, context) => {
  program
    .command('completion <shell>')
    .description('print a shell completion script (bash or zsh)')
    .addHelpText('after', '\nExamples:\n  trellis completion bash > /etc/bash_completion.d/trellis\n  echo \'source <(trellis completion zsh)\' >> ~/.zshrc')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new CliError(`no completion for "${shell.slice(0, 20)}": bash or zsh`, EXIT.usage);
      context().output.line(completionScript(program, shell));
    });
};

/** The words that may follow each command path ('' is the top level): subcommands and options. */
export function completionWords(program: Command): Map<string, string[]> {
  const words = new Map<string, string[]>();
  const globals = program.options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => !!flag));
  const visit = (command: Command, path: string[]) => {
    const options = command.options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => !!flag));
    words.set(path.join(' '), [...command.commands.map((sub) => sub.name()), ...options, ...(path.length > 0 ? globals : []), '--help']);
    for (const sub of command.commands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return words;
}

function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const cases = [...completionWords(program)]
    .sort(([a], [b]) => b.length - a.length)
    .map(([path, words]) => `    "${path}") words="${words.join(' ')}" ;;`)
    .join('\n');
  const body = `_trellis_complete() {
  local path="" word
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$word" in -*) ;; *) path="\${path:+$path }$word" ;; esac
  done
  local words
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "\${COMP_WORDS[COMP_CWORD]}") )
}
complete -o default -F _trellis_complete trellis`;
  return shell === 'bash' ? body : `autoload -U +X bashcompinit && bashcompinit\n${body}`;
}
