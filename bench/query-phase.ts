/**
 * @module The three bench queries, each timed, checked against what the generator knows and (for the
 * counts) against GNU grep on the raw file. A query the server fails is recorded with its error and
 * the phase goes on.
 */
import { Agent } from 'node:http';
import { queryLines, queryScalar, type Timing, timeGrep, timeRuns } from './queries.js';
import { fmtInt, fmtTiming } from './report.js';

export interface QueryOutcome {
  readonly query: string;
  readonly timing?: Timing;
  readonly error?: string;
  /** Whether the answer is exactly what the data set says it should be. */
  readonly agrees: boolean;
}

export interface NewestOutcome extends QueryOutcome {
  readonly lines: number;
}

export interface CountOutcome extends QueryOutcome {
  readonly count?: number;
  readonly expected: number;
  readonly grep: { readonly timing: Timing; readonly count: number };
  /** kjournal median / grep median. */
  readonly ratio?: number;
}

const say = (text: string): void => void process.stdout.write(`${text}\n`);
/** The first line of an error's message (DuckDB appends paragraphs of tuning hints). */
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

export interface QueryPlan {
  readonly baseUrl: string;
  readonly runs: number;
  readonly rawPath: string;
  readonly now: bigint;
  readonly hourNs: bigint;
  readonly pod: string;
  /** The newest timestamps of the pod in the last hour, newest first. */
  readonly expectedNewest: readonly string[];
  readonly rangeHours: number;
  readonly substring: string;
  readonly expectedSubstring: number;
  readonly regex: string;
  readonly expectedRegex: number;
}

export async function runQueries(
  plan: QueryPlan,
): Promise<{ newest: NewestOutcome; substring: CountOutcome; regex: CountOutcome }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const qa = `{namespace="shop", pod="${plan.pod}"}`;
    let newest: NewestOutcome;
    try {
      const a = await timeRuns(plan.runs, () =>
        queryLines(agent, plan.baseUrl, qa, plan.now - plan.hourNs, plan.now, 100),
      );
      const agrees = JSON.stringify(a.result) === JSON.stringify(plan.expectedNewest);
      newest = { query: qa, timing: a.timing, agrees, lines: a.result.length };
      say(
        `query a: ${qa} newest 100 in the last hour: ${fmtTiming(a.timing)}; ${a.result.length} lines, ` +
          (agrees
            ? 'exactly the expected newest lines'
            : `MISMATCH with the expected newest ${plan.expectedNewest.length} (first got ${a.result[0]}, want ${plan.expectedNewest[0]})`),
      );
    } catch (err) {
      newest = { query: qa, error: message(err), agrees: false, lines: 0 };
      say(`query a: ${qa} FAILED: ${newest.error}`);
    }
    const count = async (
      label: string,
      op: '|=' | '|~',
      pattern: string,
      expected: number,
    ): Promise<CountOutcome> => {
      const query = `sum(count_over_time({kind=~".+"} ${op} "${pattern}" [${plan.rangeHours}h]))`;
      const mode = op === '|=' ? '-F' : '-E';
      const g = await timeGrep(plan.runs, mode, pattern, plan.rawPath);
      const grep = { timing: g.timing, count: g.result };
      const grepText = `grep -c ${mode} ${fmtTiming(g.timing)} -> ${fmtInt(g.result)}`;
      try {
        const k = await timeRuns(plan.runs, () => queryScalar(agent, plan.baseUrl, query, plan.now));
        const agrees = k.result === g.result && k.result === expected;
        const ratio = k.timing.medianMs / g.timing.medianMs;
        say(
          `query ${label}: ${query}\n  kjournal ${fmtTiming(k.timing)} -> ${fmtInt(k.result)}\n  ${grepText}\n` +
            `  counts ${agrees ? 'agree' : `DISAGREE (the generator counted ${fmtInt(expected)})`}; kjournal/grep = ${ratio.toFixed(2)}`,
        );
        return { query, timing: k.timing, count: k.result, expected, grep, agrees, ratio };
      } catch (err) {
        say(`query ${label}: ${query} FAILED: ${message(err)}\n  ${grepText}`);
        return { query, error: message(err), expected, grep, agrees: false };
      }
    };
    const substring = await count('b', '|=', plan.substring, plan.expectedSubstring);
    const regex = await count('c', '|~', plan.regex, plan.expectedRegex);
    return { newest, substring, regex };
  } finally {
    agent.destroy();
  }
}
