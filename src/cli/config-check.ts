/**
 * @module `kjournal config check FILE`: validates the `outputs` and `flows` of a configuration file
 * as a start of `serve` or `agent` would (every filter and output is built, then closed), and prints
 * `FILE: ok (N outputs, M flows)`, or fails with the error's `FILE:LINE:COL: field: reason` (exit 1).
 * Other top-level keys (the host's own settings) are not checked here.
 */
import type { Command } from 'commander';
import { checkPipelineConfig, readConfigText } from '../pipeline/config.js';
import { CliError } from './errors.js';

export async function configCheck(file: string, write: (text: string) => void): Promise<void> {
  let counts: { outputs: number; flows: number };
  try {
    counts = await checkPipelineConfig(await readConfigText(file), file);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  write(`${file}: ok (${plural(counts.outputs, 'output')}, ${plural(counts.flows, 'flow')})\n`);
}

export function registerConfigCheck(program: Command): void {
  const config = program.command('config').description('Work with configuration files');
  config
    .command('check')
    .description(
      "Validate a configuration file's outputs and flows as a start would, with the line of each error",
    )
    .argument('<file>', 'the YAML configuration file')
    .action(async (file: string) => {
      await configCheck(file, (t) => process.stdout.write(t));
    });
}
