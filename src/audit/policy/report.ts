/**
 * @module What a policy would keep of events already stored (`kjournal audit-policy test POLICY`):
 * per rule (and for "no rule matched"), per applied level and in total, how many events and how
 * many bytes there are before, and how many the policy keeps after (the size of each event as the
 * policy would record it). Bodies that are not JSON objects are kept as they are (as the filter
 * does) and counted apart.
 */
import { applyPolicyToBody, NotAnEventError } from './apply.js';
import { type AuditPolicy, LEVELS, type Level } from './types.js';

export interface Tally {
  /** Events seen. */
  events: number;
  /** Their bytes (UTF-8) as stored. */
  bytesBefore: number;
  /** Events the policy keeps. */
  keptEvents: number;
  /** Bytes of the kept events as the policy would record them. */
  bytesAfter: number;
}

export interface RuleTally extends Tally {
  /** Index in `rules`; -1 for "no rule matched". */
  readonly rule: number;
  /** The rule's level (`None` for "no rule matched"). */
  readonly level: Level;
}

export interface PolicyReport {
  /** Every rule, in order, then "no rule matched" (rule -1). */
  readonly rules: RuleTally[];
  /** Per level the policy decided, in the order of LEVELS. */
  readonly levels: Record<Level, Tally>;
  /** Bodies that are not JSON objects (kept, counted in `total`). */
  readonly invalid: Tally;
  readonly total: Tally;
}

const zero = (): Tally => ({ events: 0, bytesBefore: 0, keptEvents: 0, bytesAfter: 0 });

function add(t: Tally, before: number, after: number | null): void {
  t.events++;
  t.bytesBefore += before;
  if (after !== null) {
    t.keptEvents++;
    t.bytesAfter += after;
  }
}

/** A report built one body at a time, so that the bodies need not all be held at once. */
export class PolicyReporter {
  private readonly rules: RuleTally[];
  private readonly unmatched: RuleTally = { rule: -1, level: 'None', ...zero() };
  private readonly levels = Object.fromEntries(LEVELS.map((l) => [l, zero()])) as Record<Level, Tally>;
  private readonly invalid = zero();
  private readonly total = zero();

  constructor(private readonly policy: AuditPolicy) {
    this.rules = policy.rules.map((r, i) => ({ rule: i, level: r.level as Level, ...zero() }));
  }

  /** Counts one event body (the JSON text of an audit.k8s.io/v1 Event). */
  add(body: string): void {
    const before = Buffer.byteLength(body);
    let out: ReturnType<typeof applyPolicyToBody>;
    try {
      out = applyPolicyToBody(this.policy, body);
    } catch (err) {
      if (!(err instanceof NotAnEventError)) throw err;
      add(this.invalid, before, before);
      add(this.total, before, before);
      return;
    }
    const after = out.body === null ? null : Buffer.byteLength(out.body);
    add(this.rules[out.decision.rule] ?? this.unmatched, before, after);
    add(this.levels[out.decision.level], before, after);
    add(this.total, before, after);
  }

  /** The report so far (its tallies are live: a later `add` updates them). */
  report(): PolicyReport {
    const { levels, invalid, total } = this;
    return { rules: [...this.rules, this.unmatched], levels, invalid, total };
  }
}

/** The report of a policy over event bodies (each the JSON text of an audit.k8s.io/v1 Event). */
export function policyReport(policy: AuditPolicy, bodies: Iterable<string>): PolicyReport {
  const reporter = new PolicyReporter(policy);
  for (const body of bodies) reporter.add(body);
  return reporter.report();
}

const pct = (after: number, before: number): string =>
  before === 0 ? '-' : `${((100 * after) / before).toFixed(1)}%`;

/** Columns two spaces apart; the first `labels` columns to the left, numbers to the right. */
function table(rows: string[][], labels: number): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c < labels ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .map((line) => line.trimEnd())
    .join('\n');
}

const cells = (t: Tally): string[] => [
  String(t.events),
  String(t.keptEvents),
  String(t.bytesBefore),
  String(t.bytesAfter),
  pct(t.bytesAfter, t.bytesBefore),
];

const HEADER = ['EVENTS', 'KEPT', 'BYTES BEFORE', 'BYTES AFTER', 'BYTES KEPT'];

/** The report as plain-text tables: per rule, per level, and the totals. */
export function formatPolicyReport(report: PolicyReport): string {
  const ruleRows = report.rules.map((r) => [
    r.rule < 0 ? 'no rule matched' : `rules[${r.rule}]`,
    r.level,
    ...cells(r),
  ]);
  const levelRows = LEVELS.map((l) => [l, ...cells(report.levels[l])]);
  const totalRows = [['total', ...cells(report.total)]];
  if (report.invalid.events > 0) totalRows.unshift(['not JSON (kept)', ...cells(report.invalid)]);
  return [
    table([['RULE', 'LEVEL', ...HEADER], ...ruleRows], 2),
    table([['LEVEL', ...HEADER], ...levelRows, ...totalRows], 1),
  ].join('\n\n');
}
