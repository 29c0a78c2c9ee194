/** `webex-auth completion bash|zsh|fish`: a shell completion script built from the command table and each command's flags. */
import type { Command, CommandEntry } from '../command.js';
import { CliError, EXIT } from '../io.js';

/** Words completed after each command of `commands`: its flags, plus fixed subcommands/values where it has them. */
async function wordsByCommand(commands: Record<string, CommandEntry>): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const [name, entry] of Object.entries(commands)) {
    const command = (await entry.load()).default;
    result[name] = [...(command.completions ?? []), ...Object.keys(command.flags).map((f) => `--${f}`), '--help'];
  }
  return result;
}

/** The bash script: `complete -F` with a case per command. */
export function bashScript(words: Record<string, string[]>): string {
  const cases = Object.entries(words)
    .map(([name, w]) => `    ${name}) COMPREPLY=( $(compgen -W "${w.join(' ')}" -- "$cur") ) ;;`)
    .join('\n');
  return `# bash completion for webex-auth. Load it with: source <(webex-auth completion bash)
_webex_auth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${Object.keys(words).join(' ')} help --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
}
complete -F _webex_auth webex-auth
`;
}

/** The zsh script: uses bash completion through bashcompinit, which every zsh ships. */
export function zshScript(words: Record<string, string[]>): string {
  return `#compdef webex-auth
# zsh completion for webex-auth. Load it with: source <(webex-auth completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(words).replace(/^# bash completion.*\n/, '')}`;
}

/** The fish script: one `complete` line per command and per word. */
export function fishScript(words: Record<string, string[]>, summaries: Record<string, string>): string {
  const lines = [
    '# fish completion for webex-auth. Load it with: webex-auth completion fish | source',
    'complete -c webex-auth -f',
  ];
  for (const [name, w] of Object.entries(words)) {
    const summary = (summaries[name] ?? '').replace(/'/g, "\\'");
    lines.push(`complete -c webex-auth -n '__fish_use_subcommand' -a ${name} -d '${summary}'`);
    for (const word of w) {
      const arg = word.startsWith('--') ? `-l ${word.slice(2)}` : `-a ${word}`;
      lines.push(`complete -c webex-auth -n '__fish_seen_subcommand_from ${name}' ${arg}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The `completion` command over the command table `commands` (which passes itself in). */
export function completionCommand(commands: Record<string, CommandEntry>): Command {
  return {
    summary: 'Print a shell completion script (bash, zsh or fish)',
    usage: 'completion bash|zsh|fish',
    flags: {},
    help: {},
    positionals: true,
    completions: ['bash', 'zsh', 'fish'],
    details:
      'Examples:\n  source <(webex-auth completion bash)   # in ~/.bashrc\n  webex-auth completion fish > ~/.config/fish/completions/webex-auth.fish',
    async run(args, io) {
      const shell = args.positionals[0];
      if (args.positionals.length !== 1 || !['bash', 'zsh', 'fish'].includes(shell ?? '')) {
        throw new CliError(
          shell ? `unknown shell "${shell}"` : 'which shell?',
          EXIT.usage,
          'Run `webex-auth completion bash`, `… zsh` or `… fish`.',
        );
      }
      const words = await wordsByCommand(commands);
      const summaries = Object.fromEntries(Object.entries(commands).map(([n, e]) => [n, e.summary]));
      io.stdout.write(
        shell === 'bash' ? bashScript(words) : shell === 'zsh' ? zshScript(words) : fishScript(words, summaries),
      );
      return EXIT.ok;
    },
  };
}
