/**
 * @module The contract of the LogQL pipeline evaluator: what goes in (one stored entry) and what comes
 * out (the line and its labels in Loki's three categories, or nothing when a stage drops the entry).
 * The log-query path, the metric engine, detected_fields and tail all run pipelines through this.
 */
import type { Labels } from '../../model/record.js';
import type { PipelineStage } from '../ast.js';

export interface LogPipelineInput {
  readonly timestamp: bigint;
  readonly line: string;
  /** The stored stream labels. */
  readonly stream: Labels;
  /** Structured metadata stored with the entry. */
  readonly metadata: Labels;
}

/**
 * The labels of a processed entry by category, as Loki's `categorize-labels` response reports them.
 * Every name appears in at most one category. Extracted labels whose name clashes with a stream label
 * take the `_extracted` suffix, as Loki does. `__error__` and `__error_details__`, when set, are in
 * `parsed`.
 */
export interface LogPipelineOutput {
  readonly line: string;
  readonly stream: Labels;
  readonly metadata: Labels;
  readonly parsed: Labels;
}

export interface LogPipeline {
  /** Runs every stage; undefined when a filter drops the entry. Never throws for any input line. */
  process(input: LogPipelineInput): LogPipelineOutput | undefined;
  /** True when no stage can change labels (only line filters): callers may skip label bookkeeping. */
  readonly linesOnly: boolean;
}

/** All labels of an output, flattened as Loki returns them without categorize-labels. */
export function allLabels(out: LogPipelineOutput): Labels {
  return { ...out.stream, ...out.metadata, ...out.parsed };
}

export type CompileLogPipeline = (stages: readonly PipelineStage[]) => LogPipeline;
