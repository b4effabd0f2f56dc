/**
 * @module Field errors as kube-apiserver words them (k8s.io/apimachinery field.Error): the path
 * (`rules[2].level`), the kind (`Required value`, `Invalid value`, `Unsupported value`), the bad
 * value as Go prints it (`"FooBar"`, `[]string{"a", "b"}`), the detail; and the aggregate of
 * several (`[first, second]`, duplicates removed). `AuditPolicyError` is what loading throws.
 */
import { type ConfigPath, pathText } from '../../config/options.js';

export type FieldErrorType = 'Required value' | 'Invalid value' | 'Unsupported value' | 'Decode';

export interface FieldError {
  readonly path: ConfigPath;
  readonly type: FieldErrorType;
  /** A string or a list of strings; absent for `Required value`. */
  readonly value?: string | readonly string[];
  readonly detail: string;
}

/** A Go `%q` of a string (close enough: JSON's escapes). */
const goQuote = (s: string): string => JSON.stringify(s);

/** The bad value as field.Error prints it: `%q` for a string, `%#v` for a []string. */
function goValue(v: string | readonly string[]): string {
  return typeof v === 'string' ? goQuote(v) : `[]string{${v.map(goQuote).join(', ')}}`;
}

/** The message without the path (`Invalid value: "logs": non-resource URL rules must ...`). */
export function errorBody(e: FieldError): string {
  let s: string = e.type === 'Decode' ? '' : e.type;
  if (e.type !== 'Required value' && e.type !== 'Decode' && e.value !== undefined)
    s += `: ${goValue(e.value)}`;
  if (e.detail !== '') s += s === '' ? e.detail : `: ${e.detail}`;
  return s;
}

/** `rules[2].level: Required value` */
export function errorText(e: FieldError): string {
  return `${pathText(e.path)}: ${errorBody(e)}`;
}

/** utilerrors.Aggregate's text: one message alone, several as `[a, b]`, duplicates once. */
export function aggregateText(errors: readonly FieldError[]): string {
  const msgs = [...new Set(errors.map(errorText))];
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

/** A policy that could not be read, decoded or validated. */
export class AuditPolicyError extends Error {
  constructor(
    message: string,
    /** The field errors behind the message (empty for a read error or the 0-rules error). */
    readonly errors: readonly FieldError[] = [],
    /** The file, when the policy came from one. */
    readonly file?: string,
  ) {
    super(message);
    this.name = 'AuditPolicyError';
  }
}
