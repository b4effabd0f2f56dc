/**
 * @module The completion scripts of `kjournal completion bash|zsh|fish`, generated from the program's
 * own commands and options (so they never drift from them). Label names and values come from the
 * server at completion time, through `kjournal __complete labels|values NAME` (completion.ts).
 * zsh runs the bash function through `bashcompinit`, as kubectl's and many Go tools' scripts did.
 */
import type { Command } from 'commander';

/** One command of the tree: its path ("config check"), subcommands, flags, and which take a value. */
export interface CompletionNode {
  readonly path: string;
  readonly description: string;
  readonly subcommands: readonly string[];
  readonly flags: readonly { long?: string; short?: string; value: boolean; description: string }[];
}

/** The connection flags `__complete` forwards from the command line being completed. */
export const FORWARDED_FLAGS = [
  '--server',
  '--token',
  '--token-file',
  '--username',
  '--password',
  '--certificate-authority',
  '--client-certificate',
  '--client-key',
  '--kubeconfig',
  '--context',
  '--tenant',
] as const;

/** Every visible command, depth first (hidden ones, named `__...`, are left out). */
export function completionTree(program: Command): CompletionNode[] {
  const out: CompletionNode[] = [];
  const walk = (cmd: Command, path: string): void => {
    const subs = cmd.commands.filter((c) => !c.name().startsWith('__'));
    out.push({
      path,
      description: cmd.description(),
      subcommands: subs.map((c) => c.name()),
      flags: cmd.options.map((o) => ({
        ...(o.long !== undefined ? { long: o.long } : {}),
        ...(o.short !== undefined ? { short: o.short } : {}),
        value: o.required || o.optional,
        description: o.description,
      })),
    });
    for (const s of subs) walk(s, path === '' ? s.name() : `${path} ${s.name()}`);
  };
  walk(program, '');
  return out;
}

const words = (list: readonly string[]): string => list.join(' ');

export function bashScript(tree: readonly CompletionNode[], kinds: readonly string[]): string {
  const root = tree.find((n) => n.path === '')!;
  const valueFlags = new Set<string>();
  for (const n of tree)
    for (const f of n.flags) if (f.value) for (const x of [f.long, f.short]) if (x) valueFlags.add(x);
  const cases = tree
    .filter((n) => n.path !== '')
    .map((n) => {
      const flags = n.flags.flatMap((f) => [f.long, f.short].filter((x): x is string => !!x));
      return `    '${n.path}') subs='${words(n.subcommands)}'; flags='${words([...flags, '--help'])}' ;;`;
    })
    .join('\n');
  return `# kjournal completion for bash: source <(kjournal completion bash)
_kjournal_server_flags() {
  local i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      ${FORWARDED_FLAGS.join('|')}) printf '%s\\n%s\\n' "$w" "\${COMP_WORDS[i + 1]}"; ((i++)) ;;
      --insecure-skip-tls-verify) printf '%s\\n' "$w" ;;
    esac
  done
}

_kjournal_server_words() {
  local -a conn
  mapfile -t conn < <(_kjournal_server_flags)
  "\${_kjournal_bin:-kjournal}" __complete "$@" "\${conn[@]}" 2>/dev/null
}

_kjournal() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD - 1]}"
  local path="" i w subs flags
  COMPREPLY=()
  local value_flags=' ${words([...valueFlags])} '
  if [[ $value_flags == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  # The command path: the leading words that are subcommands of the path so far.
  subs='${words(root.subcommands)}'
  local args=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ $w == -* ]]; then
      [[ $value_flags == *" $w "* ]] && ((i++))
      continue
    fi
    if [[ " $subs " == *" $w "* ]]; then
      path="\${path:+$path }$w"
      case "$path" in
${cases}
      esac
    else
      ((args++))
    fi
  done
  if [[ -z $path ]]; then
    COMPREPLY=($(compgen -W "$subs --help --version" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  # Inside a stream selector: label values after NAME= (or !=, =~, !~) and a quote, else names.
  local line="\${COMP_LINE:0:COMP_POINT}"
  local re_value='[{,][[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*(=~|!~|!=|=)[[:space:]]*"([^"]*)$'
  local re_name='[{,][[:space:]]*([A-Za-z_][A-Za-z0-9_]*)?$'
  local v part
  if [[ $line =~ $re_value ]]; then
    part="\${BASH_REMATCH[3]}"
    while IFS= read -r v; do
      [[ $v == "$part"* ]] && COMPREPLY+=("\${cur%"$part"}$v")
    done < <(_kjournal_server_words values "\${BASH_REMATCH[1]}")
    return
  fi
  if [[ $line =~ $re_name ]]; then
    part="\${BASH_REMATCH[1]}"
    while IFS= read -r v; do
      [[ $v == "$part"* ]] && COMPREPLY+=("\${cur%"$part"}$v")
    done < <(_kjournal_server_words labels)
    return
  fi
  case "$path" in
    get) [[ $args -eq 0 ]] && COMPREPLY=($(compgen -W '${words(kinds)}' -- "$cur")) ;;
    labels)
      if [[ $args -eq 0 ]]; then
        while IFS= read -r v; do
          [[ $v == "$cur"* ]] && COMPREPLY+=("$v")
        done < <(_kjournal_server_words labels)
      fi
      ;;
    completion) [[ $args -eq 0 ]] && COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")) ;;
    *) [[ -n $subs ]] && COMPREPLY=($(compgen -W "$subs" -- "$cur")) ;;
  esac
}
complete -o default -F _kjournal kjournal
`;
}

export function zshScript(tree: readonly CompletionNode[], kinds: readonly string[]): string {
  return `#compdef kjournal
# kjournal completion for zsh: source <(kjournal completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(tree, kinds).replace(/^# kjournal completion for bash.*\n/, '')}`;
}

const fishQuote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function fishScript(tree: readonly CompletionNode[], kinds: readonly string[]): string {
  const root = tree.find((n) => n.path === '')!;
  const lines = [
    '# kjournal completion for fish: kjournal completion fish | source',
    'complete -c kjournal -f',
  ];
  for (const name of root.subcommands) {
    const n = tree.find((t) => t.path === name)!;
    lines.push(`complete -c kjournal -n __fish_use_subcommand -a ${name} -d ${fishQuote(n.description)}`);
  }
  for (const n of tree) {
    if (n.path === '') continue;
    const parts = n.path.split(' ');
    const cond = parts.map((p) => `__fish_seen_subcommand_from ${p}`).join('; and ');
    for (const s of n.subcommands) {
      lines.push(`complete -c kjournal -n ${fishQuote(cond)} -a ${s}`);
    }
    for (const f of n.flags) {
      const opts = [
        f.long ? `-l ${f.long.replace(/^--/, '')}` : '',
        f.short ? `-s ${f.short.replace(/^-/, '')}` : '',
        f.value ? '-r' : '',
      ].filter((x) => x !== '');
      lines.push(
        `complete -c kjournal -n ${fishQuote(cond)} ${opts.join(' ')} -d ${fishQuote(f.description)}`,
      );
    }
  }
  lines.push(`complete -c kjournal -n '__fish_seen_subcommand_from get' -a ${fishQuote(words(kinds))}`);
  lines.push(
    "complete -c kjournal -n '__fish_seen_subcommand_from labels' -a '(kjournal __complete labels 2>/dev/null)'",
  );
  lines.push("complete -c kjournal -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'");
  return `${lines.join('\n')}\n`;
}
