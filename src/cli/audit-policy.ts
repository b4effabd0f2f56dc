/**
 * @module `kjournal audit-policy`: try an audit policy before anyone deploys it.
 *
 * - `audit-policy test POLICY [--since 7d]` reads the audit events the server holds over the window
 *   (`{kind="auditevent"}` through the Loki API, paged forward) and reports, per rule and per level,
 *   how many events and bytes the policy would keep (src/audit/policy/report.ts).
 * - `audit-policy default` prints the policy kjournal applies when none is given.
 */
import type { Command } from 'commander';
import {
  AuditPolicyError,
  DEFAULT_AUDIT_POLICY_YAML,
  formatPolicyReport,
  loadAuditPolicyFile,
  PolicyReporter,
} from '../audit/policy/index.js';
import type { KjournalClient } from '../client/client.js';
import { addConnectionOptions } from '../client/options.js';
import { CliError } from './errors.js';
import { Printer } from './print/printer.js';
import {
  addTimeOptions,
  type CommonFlags,
  getJson,
  lokiData,
  notice,
  openClient,
  positiveInt,
  QUERY_RANGE_PATH,
  resolveRange,
  type TimeFlags,
} from './query.js';
import { AUDIT_POLICY_SINCE } from './window.js';

interface TestFlags extends CommonFlags, TimeFlags {
  batch: number;
}

const SELECTOR = '{kind="auditevent"}';

/**
 * Every stored audit event body in [start, end], oldest first, a page of `batch` at a time. A page
 * starts at the last timestamp of the one before and skips the entries of that timestamp already
 * seen, so none is missed or counted twice however many share a timestamp.
 */
export async function* storedAuditBodies(
  client: KjournalClient,
  start: bigint,
  end: bigint,
  batch: number,
  quiet: boolean | undefined,
): AsyncGenerator<string> {
  let from = start;
  let seenAtFrom = 0;
  for (;;) {
    const p = new URLSearchParams({
      query: SELECTOR,
      start: String(from),
      end: String(end),
      limit: String(batch + seenAtFrom),
      direction: 'forward',
    });
    const data = lokiData(
      await getJson(client, QUERY_RANGE_PATH, p, 'query_range', quiet),
      'query_range',
    ) as {
      result?: { values?: [string, string][] }[];
    };
    const entries: [bigint, string][] = [];
    for (const s of data.result ?? [])
      for (const [ts, line] of s.values ?? []) entries.push([BigInt(ts), line]);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let skip = seenAtFrom;
    let fresh = 0;
    for (const [ts, line] of entries) {
      if (ts === from && skip > 0) {
        skip--;
        continue;
      }
      fresh++;
      yield line;
    }
    if (entries.length < batch + seenAtFrom || fresh === 0) return;
    const last = entries.at(-1)![0];
    const atLast = entries.filter(([ts]) => ts === last).length;
    seenAtFrom = last === from ? seenAtFrom + fresh : atLast;
    from = last;
  }
}

export function registerAuditPolicy(program: Command): void {
  const group = program
    .command('audit-policy')
    .description('Audit policies: test one against the stored audit events, or print the default');

  group
    .command('default')
    .description('Print the audit policy applied when --audit-policy is not given')
    .action(async () => {
      await new Printer().text(DEFAULT_AUDIT_POLICY_YAML);
    });

  const test = group
    .command('test')
    .description(
      'Run a candidate audit policy over the stored audit events and report, per rule and per level, ' +
        'how many events and bytes it would keep',
    )
    .argument('<policy>', 'an audit.k8s.io/v1 Policy file (YAML or JSON)');
  // The window defaults to a week, not the reading commands' day: a policy is judged on a
  // representative sample. Given at registration: commander stores a default when the option is
  // added, so changing `defaultValue` afterwards (as this did) left the hour in force.
  addTimeOptions(test, AUDIT_POLICY_SINCE);
  test
    .option('--batch <n>', 'events per request', positiveInt, 5000)
    .option('-q, --quiet', 'do not print the requests');
  addConnectionOptions(test);
  test.action(async (file: string, flags: TestFlags) => {
    let policy: Awaited<ReturnType<typeof loadAuditPolicyFile>>;
    try {
      policy = await loadAuditPolicyFile(file);
    } catch (err) {
      if (err instanceof AuditPolicyError) throw new CliError(err.message, 2);
      throw err;
    }
    const range = resolveRange(flags);
    const client = await openClient(flags, 'kjournal-audit-policy');
    try {
      const reporter = new PolicyReporter(policy);
      for await (const b of storedAuditBodies(client, range.start, range.end, flags.batch, flags.quiet)) {
        reporter.add(b);
      }
      const report = reporter.report();
      notice(flags.quiet, `${report.total.events} stored audit events in the window`);
      await new Printer().text(formatPolicyReport(report));
    } finally {
      client.close();
    }
  });
}
