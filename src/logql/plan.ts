/**
 * @module The planner: turns a LogQL log expression into what the store evaluates (stream matchers,
 * line filters, time range, order and limit) plus the stages left for TypeScript. Today every
 * supported stage pushes down; the parsers and formatters of the full language will run after the
 * store, streaming, on what it returns.
 */
import type { ContentHint, LabelMatcher, LineFilter } from '../store/store.js';
import { type LabelFilter, type LogExpr, lineFilterHasIp, type PipelineStage } from './ast.js';

export interface LogPlan {
  readonly matchers: readonly LabelMatcher[];
  readonly lineFilters: readonly LineFilter[];
  /** Stages after the last one the store can take, evaluated in TypeScript. */
  readonly rest: readonly PipelineStage[];
  /** Necessary conditions that `rest` implies, for the store to skip entries early (see hintsOf). */
  readonly hints: readonly ContentHint[];
}

/**
 * Stages that take label values verbatim from the line, structured metadata or stream labels (a
 * parser may unescape them), or only drop entries or labels. After any other stage (decolorize,
 * line_format, label_format) a label's value may be made up, and no hint is derived.
 */
const VERBATIM = new Set<PipelineStage['type']>([
  'lineFilter',
  'json',
  'logfmt',
  'regexp',
  'pattern',
  'unpack',
  'labelFilter',
  'drop',
  'keep',
]);

/** The `name = "value"` tests that a label filter requires (through `and`, not `or`). */
function requiredEqualities(f: LabelFilter, out: { name: string; value: string }[]): void {
  if (f.kind === 'and') {
    requiredEqualities(f.left, out);
    requiredEqualities(f.right, out);
  } else if (f.kind === 'string' && f.op === '=') out.push({ name: f.name, value: f.value });
}

/**
 * Hints from label filters `name = "value"` reached only through verbatim stages: an entry passes
 * such a filter only if the value is in its body or structured metadata (perhaps escaped) or the
 * label is one of its stream's. Labels the pipeline sets itself (`__error__`, ...) and empty values
 * (which match a missing label) give none.
 */
export function hintsOf(rest: readonly PipelineStage[]): ContentHint[] {
  const hints: ContentHint[] = [];
  for (const stage of rest) {
    if (!VERBATIM.has(stage.type)) break;
    if (stage.type !== 'labelFilter') continue;
    const eqs: { name: string; value: string }[] = [];
    requiredEqualities(stage.filter, eqs);
    for (const { name, value } of eqs) {
      if (value !== '' && !name.startsWith('__')) hints.push({ label: name, literal: value });
    }
  }
  return hints;
}

export function planLog(expr: LogExpr): LogPlan {
  const lineFilters: LineFilter[] = [];
  let i = 0;
  for (; i < expr.pipeline.length; i++) {
    const stage = expr.pipeline[i]!;
    // Pattern and IP filters stay in TypeScript; substring and RE2 filters go to the store.
    if (stage.type !== 'lineFilter' || lineFilterHasIp(stage) || stage.op === '|>' || stage.op === '!>')
      break;
    const op = stage.op;
    lineFilters.push(stage.or.length ? { op, value: stage.value, or: stage.or } : { op, value: stage.value });
  }
  const rest = expr.pipeline.slice(i);
  return { matchers: expr.matchers, lineFilters, rest, hints: hintsOf(rest) };
}
