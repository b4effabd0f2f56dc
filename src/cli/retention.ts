/**
 * @module `kjournal retention test [FILE]`: what a retention policy would remove now from the
 * tenant, per rule, without removing anything (in the spirit of `kjournal audit-policy test`). FILE
 * holds `retention` and `retentionStream` as `serve --config` takes them; without it, the server's
 * own policy is reported. The counting is the server's (`/api/v1/retention/test`).
 */
import type { Command } from 'commander';
import { type KjournalClient, RETENTION_TEST_PATH, serverMessage } from '../client/client.js';
import { addConnectionOptions, type ConnectionFlags } from '../client/options.js';
import { readConfigText } from '../pipeline/config.js';
import { CliError } from './errors.js';
import { Printer } from './print/printer.js';
import { openClient } from './query.js';

interface RuleReport {
  rule: number;
  selector: string | null;
  period: string | null;
  priority: number | null;
  streams: number;
  entries: number;
  bytes: number;
}

/** The report as a table: one row per rule, then the streams no rule applies to. */
export function formatRetentionReport(rules: readonly RuleReport[]): string {
  const rows = rules.map((r) => [
    r.rule < 0 ? '(global)' : String(r.rule),
    r.selector ?? '(every other stream)',
    r.period ?? 'forever',
    r.priority === null ? '' : String(r.priority),
    String(r.streams),
    String(r.entries),
    String(r.bytes),
  ]);
  const header = ['RULE', 'SELECTOR', 'PERIOD', 'PRIORITY', 'STREAMS', 'ENTRIES', 'BYTES'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const total = rules.reduce((n, r) => ({ entries: n.entries + r.entries, bytes: n.bytes + r.bytes }), {
    entries: 0,
    bytes: 0,
  });
  return `${[line(header), ...rows.map(line)].join('\n')}\nwould remove ${total.entries} entries, ${total.bytes} bytes of lines\n`;
}

async function report(client: KjournalClient, body: string | undefined): Promise<RuleReport[]> {
  let res: Awaited<ReturnType<KjournalClient['request']>>;
  try {
    res = await client.request(body === undefined ? 'GET' : 'POST', RETENTION_TEST_PATH, {
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/yaml' }),
      },
      ...(body === undefined ? {} : { body }),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${client.connection.server.href}: ${(err as Error).message}`);
  }
  if (res.status !== 200) {
    throw new CliError(`retention test: HTTP ${res.status}: ${serverMessage(res.body)}`);
  }
  return (JSON.parse(res.body.toString('utf8')) as { rules: RuleReport[] }).rules;
}

export function registerRetention(program: Command): void {
  const group = program.command('retention').description('Work with retention policies');
  const test = group
    .command('test')
    .description(
      "Report, per rule, how many entries and bytes a retention policy would remove now (the server's own without FILE)",
    )
    .argument(
      '[file]',
      'YAML with retention (a duration) and retentionStream ([{selector, period, priority}])',
    );
  addConnectionOptions(test);
  test.action(async (file: string | undefined, flags: ConnectionFlags) => {
    let body: string | undefined;
    if (file !== undefined) {
      try {
        body = await readConfigText(file);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
    }
    const client = await openClient(flags, 'kjournal-retention');
    try {
      await new Printer().text(formatRetentionReport(await report(client, body)));
    } finally {
      client.close();
    }
  });
}
