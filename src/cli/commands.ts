/**
 * @module Every subcommand, registered on the program. One file per command beside this one.
 *
 * The command modules are imported when needed: a run of one command loads that command's module
 * only (the others come in for help, or a name that is not a command). The agent, which runs on
 * every node, so starts without the server's, the query language's and the importers' code: 14 MiB
 * less RSS.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

/** Each module, with the commands it registers, in the order help lists them. */
const MODULES: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['serve'], load: async () => (await import('./serve.js')).registerServe },
  { names: ['import'], load: async () => (await import('./import.js')).registerImport },
  { names: ['query'], load: async () => (await import('./query.js')).registerQuery },
  { names: ['labels'], load: async () => (await import('./labels.js')).registerLabels },
  { names: ['series'], load: async () => (await import('./series.js')).registerSeries },
  { names: ['get'], load: async () => (await import('./get.js')).registerGet },
  {
    names: ['pods', 'logs', 'events', 'audit'],
    load: async () => (await import('./kube-shortcuts.js')).registerKubeShortcuts,
  },
  { names: ['timeline'], load: async () => (await import('./timeline.js')).registerTimeline },
  { names: ['agent'], load: async () => (await import('./agent.js')).registerAgent },
  { names: ['audit-policy'], load: async () => (await import('./audit-policy.js')).registerAuditPolicy },
  { names: ['config'], load: async () => (await import('./config-check.js')).registerConfigCheck },
  { names: ['check'], load: async () => (await import('./check.js')).registerCheck },
  { names: ['retention'], load: async () => (await import('./retention.js')).registerRetention },
  { names: ['migrate'], load: async () => (await import('./migrate.js')).registerMigrate },
  {
    names: ['completion', '__complete'],
    load: async () => {
      const { registerCompletion } = await import('./completion.js');
      return (program) => registerCompletion(program, (all) => registerCommands(all, []));
    },
  },
];

/** Registers the command `argv` runs, or every command when `argv` names none of them. */
export async function registerCommands(program: Command, argv: readonly string[] = []): Promise<void> {
  const name = argv[0];
  const one = MODULES.find((m) => name !== undefined && m.names.includes(name));
  for (const m of one ? [one] : MODULES) (await m.load())(program);
}
