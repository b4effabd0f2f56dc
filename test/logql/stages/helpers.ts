import type { LabelFilter, PipelineStage } from '../../../src/logql/ast.js';
import { compileLogPipeline } from '../../../src/logql/stages/index.js';
import { allLabels, type LogPipelineOutput } from '../../../src/logql/stages/types.js';
import type { Labels } from '../../../src/model/record.js';

export const TS = 1_700_000_000_123_456_789n;

export function run(
  stages: readonly PipelineStage[],
  line: string,
  stream: Labels = {},
  metadata: Labels = {},
): LogPipelineOutput | undefined {
  return compileLogPipeline(stages).process({ timestamp: TS, line, stream, metadata });
}

/** Line and all labels, or undefined when dropped. */
export function flat(
  stages: readonly PipelineStage[],
  line: string,
  stream: Labels = {},
  metadata: Labels = {},
): { line: string; labels: Labels } | undefined {
  const out = run(stages, line, stream, metadata);
  return out && { line: out.line, labels: allLabels(out) };
}

export const json = (params: { label: string; path: string }[] = []): PipelineStage => ({
  type: 'json',
  params,
});
export const logfmt = (
  opts: { strict?: boolean; keepEmpty?: boolean; params?: { label: string; key: string }[] } = {},
): PipelineStage => ({
  type: 'logfmt',
  strict: opts.strict ?? false,
  keepEmpty: opts.keepEmpty ?? false,
  params: opts.params ?? [],
});
export const lf = (
  op: '|=' | '!=' | '|~' | '!~' | '|>' | '!>',
  value: string,
  or: string[] = [],
  ip = false,
): PipelineStage => ({
  type: 'lineFilter',
  op,
  value,
  or,
  ...(ip ? { ip: true } : {}),
});
export const filter = (f: LabelFilter): PipelineStage => ({ type: 'labelFilter', filter: f });
export const str = (name: string, op: '=' | '!=' | '=~' | '!~', value: string): LabelFilter => ({
  kind: 'string',
  name,
  op,
  value,
});
export const num = (name: string, op: '==' | '!=' | '>' | '>=' | '<' | '<=', value: number): LabelFilter => ({
  kind: 'number',
  name,
  op,
  value,
});
export const lineFormat = (template: string): PipelineStage => ({ type: 'lineFormat', template });
export const labelFormat = (
  ...ops: { label: string; kind: 'rename' | 'template'; value: string }[]
): PipelineStage => ({ type: 'labelFormat', ops });

/** Runs a template over labels with line_format; returns the line, or the error label. */
export function tmpl(template: string, labels: Labels = {}, line = 'the line'): string {
  const out = run([lineFormat(template)], line, labels);
  if (!out) return '<dropped>';
  const err = out.parsed.__error__;
  return err ? `ERR ${err}: ${out.parsed.__error_details__ ?? ''}` : out.line;
}
