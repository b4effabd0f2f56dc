/**
 * @module `kjournal series '<selector>'`, like `logcli series`: the label sets of the streams that
 * match, one per line, or with `--analyze-labels` how many values each label has and in how many
 * streams it is found.
 */
import { type Command, Option } from 'commander';
import { addConnectionOptions } from '../client/options.js';
import { labelsKey } from '../model/labels-key.js';
import type { Labels } from '../model/record.js';
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

export const SERIES_PATH = '/loki/api/v1/series';

interface SeriesFlags extends CommonFlags, TimeFlags {
  analyzeLabels?: boolean;
  output: 'default' | 'json';
}

/** logcli's `--analyze-labels` table: labels with the most distinct values first. */
export function analyzeLabels(series: readonly Labels[]): string[] {
  const byName = new Map<string, { values: Set<string>; streams: number }>();
  for (const s of series) {
    for (const [k, v] of Object.entries(s)) {
      let d = byName.get(k);
      if (d === undefined) {
        d = { values: new Set(), streams: 0 };
        byName.set(k, d);
      }
      d.values.add(v);
      d.streams++;
    }
  }
  const rows = [...byName.entries()]
    .sort(([a, x], [b, y]) => y.values.size - x.values.size || (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, d]) => [name, String(d.values.size), String(d.streams)] as const);
  const header = ['Label Name', 'Unique Values', 'Found In Streams'] as const;
  const w0 = Math.max(header[0].length, ...rows.map((r) => r[0].length));
  const w1 = Math.max(header[1].length, ...rows.map((r) => r[1].length));
  const line = (r: readonly [string, string, string]): string =>
    `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`.trimEnd();
  return [
    `Total Streams:  ${series.length}`,
    `Unique Labels:  ${byName.size}`,
    '',
    line(header),
    ...rows.map(line),
  ];
}

export function registerSeries(program: Command): void {
  const cmd = program
    .command('series')
    .description('List the streams (label sets) that a stream selector matches')
    .argument('<selector>', 'a stream selector, e.g. \'{namespace="shop"}\' (or {} for all)');
  addTimeOptions(cmd)
    .option('--analyze-labels', 'summarise: how many distinct values each label has, in how many streams')
    .addOption(
      new Option('-o, --output <mode>', 'output: default (one label set per line) or json (the whole answer)')
        .choices(['default', 'json'])
        .default('default'),
    );
  addDisplayOptions(cmd);
  addNamespaceOption(cmd);
  addConnectionOptions(cmd);
  cmd.action(async (selector: string, flags: SeriesFlags) => {
    const range = resolveRange(flags);
    const client = await openClient(flags, 'kjournal-series', await namespaceOf(flags.namespace, [selector]));
    try {
      const p = new URLSearchParams({ start: String(range.start), end: String(range.end) });
      // Loki refuses an empty match[]; `{}` means every stream, as logcli sends it.
      if (selector.trim() !== '{}') p.append('match[]', selector);
      const body = await getJson(client, SERIES_PATH, p, 'series', flags.quiet);
      const out = new Printer();
      if (flags.output === 'json') {
        await out.text(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      const data = lokiData(body, 'series') ?? [];
      if (!Array.isArray(data)) throw new CliError("series: the server's answer is not a list");
      const series = data.filter((s): s is Labels => s !== null && typeof s === 'object');
      await out.lines(flags.analyzeLabels ? analyzeLabels(series) : series.map(labelsKey));
    } finally {
      client.close();
    }
  });
}
