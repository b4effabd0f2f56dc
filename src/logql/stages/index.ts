/**
 * @module The LogQL pipeline evaluator: compiles the stages of a log query once (regexes, patterns,
 * templates) and runs them per entry, exactly as Loki evaluates them. See types.ts for the contract.
 */
import type { PipelineStage } from '../ast.js';
import { decolorizeStage } from './decolorize.js';
import { compileDrop, compileKeep } from './drop-keep.js';
import { compileLabelFormat, compileLineFormat } from './format.js';
import { compileJson } from './json.js';
import { compileLabelFilter } from './label-filter.js';
import { compileLineFilter } from './line-filter.js';
import { compileLogfmt } from './logfmt.js';
import { compilePatternParser } from './pattern-parser.js';
import { compileRegexpParser } from './regexp-parser.js';
import type { Stage } from './stage.js';
import { EntryState } from './state.js';
import type { LogPipeline, LogPipelineInput, LogPipelineOutput } from './types.js';
import { compileUnpack } from './unpack.js';

export { LogPipelineCompileError } from './errors.js';
export type { LogPipeline, LogPipelineInput, LogPipelineOutput } from './types.js';
export { allLabels } from './types.js';

export function compileStage(stage: PipelineStage): Stage {
  switch (stage.type) {
    case 'lineFilter':
      return compileLineFilter(stage);
    case 'decolorize':
      return decolorizeStage;
    case 'json':
      return compileJson(stage);
    case 'logfmt':
      return compileLogfmt(stage);
    case 'regexp':
      return compileRegexpParser(stage.regex);
    case 'pattern':
      return compilePatternParser(stage.pattern);
    case 'unpack':
      return compileUnpack();
    case 'labelFilter':
      return compileLabelFilter(stage.filter);
    case 'lineFormat':
      return compileLineFormat(stage.template);
    case 'labelFormat':
      return compileLabelFormat(stage);
    case 'drop':
      return compileDrop(stage);
    case 'keep':
      return compileKeep(stage);
  }
}

/** Compiles a pipeline; throws LogPipelineCompileError for a stage Loki would refuse. */
export function compileLogPipeline(stages: readonly PipelineStage[]): LogPipeline {
  const compiled = stages.map(compileStage);
  const linesOnly = stages.every((s) => s.type === 'lineFilter' || s.type === 'decolorize');
  const st = new EntryState();
  const n = compiled.length;
  return {
    linesOnly,
    process(input: LogPipelineInput): LogPipelineOutput | undefined {
      st.reset(input.timestamp, input.line, input.stream, input.metadata);
      try {
        for (let i = 0; i < n; i++) {
          if (!(compiled[i] as Stage)(st)) return undefined;
        }
      } catch (err) {
        // A stage should never throw; if one does (a bug, a pathological input), keep the entry
        // with the error labelled rather than failing the whole query.
        st.setErr('PipelineErr', err instanceof Error ? err.message : String(err));
      }
      return st.output();
    },
  };
}
