/**
 * @module Errors of the pipeline: compile-time errors (a stage Loki would refuse) and the `__error__`
 * values Loki sets while processing.
 */

/** A stage that cannot be compiled (bad regex, bad template, bad pattern...), worded as Loki words it. */
export class LogPipelineCompileError extends Error {
  override readonly name = 'LogPipelineCompileError';
}

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';
export const ERR_JSON = 'JSONParserErr';
export const ERR_LOGFMT = 'LogfmtParserErr';
export const ERR_LABEL_FILTER = 'LabelFilterErr';
export const ERR_TEMPLATE = 'TemplateFormatErr';

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
