/**
 * @module `kjournal labels [NAME]`, like `logcli labels`: the label names the server knows in a time
 * range, or the values of one of them, one per line.
 */
import { type Command, Option } from 'commander';
import { addConnectionOptions } from '../client/options.js';
import { CliError } from './errors.js';
import { Printer } from './print/printer.js';
import {
  addDisplayOptions,
  addNamespaceOption,
  addTimeOptions,
  type CommonFlags,
  getJson,
  lokiData,
  namespaceOf,
  openClient,
  resolveRange,
  type TimeFlags,
} from './query.js';

export const LABELS_PATH = '/loki/api/v1/labels';
export const labelValuesPath = (name: string): string =>
  `/loki/api/v1/label/${encodeURIComponent(name)}/values`;

interface LabelsFlags extends CommonFlags, TimeFlags {
  output: 'default' | 'json';
  query?: string;
}

export function registerLabels(program: Command): void {
  const cmd = program
    .command('labels')
    .description('List the label names in a time range, or the values of one label')
    .argument('[name]', 'a label name: list its values');
  addTimeOptions(cmd)
    .option('--query <selector>', 'only the streams that this stream selector matches')
    .addOption(
      new Option('-o, --output <mode>', 'output: default (one per line) or json (the whole answer)')
        .choices(['default', 'json'])
        .default('default'),
    );
  addDisplayOptions(cmd);
  addNamespaceOption(cmd);
  addConnectionOptions(cmd);
  cmd.action(async (name: string | undefined, flags: LabelsFlags) => {
    const range = resolveRange(flags);
    const client = await openClient(
      flags,
      'kjournal-labels',
      await namespaceOf(flags.namespace, [flags.query]),
    );
    try {
      const p = new URLSearchParams({ start: String(range.start), end: String(range.end) });
      if (flags.query !== undefined) p.set('query', flags.query);
      const path = name === undefined ? LABELS_PATH : labelValuesPath(name);
      const what = name === undefined ? 'labels' : `values of ${name}`;
      const body = await getJson(client, path, p, what, flags.quiet);
      const out = new Printer();
      if (flags.output === 'json') {
        await out.text(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      const data = lokiData(body, what);
      if (data === null || data === undefined) return;
      if (!Array.isArray(data)) throw new CliError(`${what}: the server's answer is not a list`);
      await out.lines(data.map(String));
    } finally {
      client.close();
    }
  });
}
