/**
 * @module `kjournal completion bash|zsh|fish` (prints the script) and the hidden
 * `kjournal __complete labels|values NAME`, which the scripts call back at completion time: the
 * label names, or one label's values, from the server the connection flags and variables name, one
 * per line. A completion must never spoil the command line it helps with, so `__complete` prints
 * nothing at all, and exits 0, when the server is unreachable or refuses.
 */
import { Argument, Command, Option } from 'commander';
import { addConnectionOptions, type ConnectionFlags } from '../client/options.js';
import { RESOURCES } from '../kube/resources.js';
import { bashScript, completionTree, fishScript, zshScript } from './completion-scripts.js';
import { LABELS_PATH, labelValuesPath } from './labels.js';
import { openClient, resolveRange } from './query.js';

/** What `kjournal get` accepts: plural, singular, kind and short names (get.ts). */
export function kindNames(): string[] {
  return RESOURCES.flatMap((r) => [r.name, r.singular, r.kind, ...r.shortNames]);
}

/** How far back `__complete` looks for labels: a day, enough for what a user is about to query. */
const COMPLETE_SINCE = '24h';

/**
 * `allCommands` registers every command on a program (commands.ts passes its own, so that this
 * module does not import the registry that imports it).
 */
export function registerCompletion(program: Command, allCommands: (program: Command) => Promise<void>): void {
  program
    .command('completion')
    .description('Print a shell completion script: source <(kjournal completion bash)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      // Every command, whatever this run loaded: the script completes them all.
      const all = new Command('kjournal');
      await allCommands(all);
      const tree = completionTree(all);
      const make = shell === 'bash' ? bashScript : shell === 'zsh' ? zshScript : fishScript;
      process.stdout.write(make(tree, kindNames()));
    });

  const complete = program.command('__complete', { hidden: true }).description('completion words');
  const sub = (name: string, arg?: string) => {
    const c = complete.command(name);
    if (arg) c.argument(arg);
    return addConnectionOptions(c).addOption(
      new Option('--since <duration>').default(COMPLETE_SINCE).hideHelp(),
    );
  };
  const words = async (flags: ConnectionFlags & { since: string }, path: string): Promise<void> => {
    try {
      const range = resolveRange({ since: flags.since });
      const client = await openClient({ ...flags, verbose: false }, 'kjournal-complete');
      try {
        const res = await client.request('GET', path, {
          query: new URLSearchParams({ start: String(range.start), end: String(range.end) }),
        });
        if (res.status !== 200) return;
        const body = JSON.parse(res.body.toString('utf8')) as { data?: unknown };
        if (Array.isArray(body.data)) process.stdout.write(body.data.map((v) => `${String(v)}\n`).join(''));
      } finally {
        client.close();
      }
    } catch {
      // Nothing: an error would end up in the middle of the user's command line.
    }
  };
  sub('labels').action((flags: ConnectionFlags & { since: string }) => words(flags, LABELS_PATH));
  sub('values', '<name>').action((name: string, flags: ConnectionFlags & { since: string }) =>
    words(flags, labelValuesPath(name)),
  );
}
