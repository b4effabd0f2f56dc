/**
 * @module The record: the one shape every log takes inside kjournal, whatever its source.
 */

/** Stream labels: few, low-cardinality, indexed. Names are safe (see names.ts). */
export type Labels = Record<string, string>;
/** Structured metadata of one line: any cardinality, not indexed. */
export type Attributes = Record<string, string>;

export const KINDS = ['containerlog', 'event', 'auditevent', 'log'] as const;
export type Kind = (typeof KINDS)[number];

export const CLASSES = ['application', 'infrastructure', 'audit'] as const;
export type LogClass = (typeof CLASSES)[number];

export interface LogRecord {
  /** When the line was produced, nanoseconds since the Unix epoch, exact. */
  readonly timestamp: bigint;
  /** When kjournal first saw it, nanoseconds since the Unix epoch. */
  readonly observedTimestamp: bigint;
  /** Stream labels, always including `kind` and `class` once normalised. */
  readonly labels: Labels;
  /** Structured metadata (Loki's third push element, audit user, ...). */
  readonly attributes: Attributes;
  /** The original line or JSON text. */
  readonly body: string;
}

export function isKind(value: string): value is Kind {
  return (KINDS as readonly string[]).includes(value);
}

export function isLogClass(value: string): value is LogClass {
  return (CLASSES as readonly string[]).includes(value);
}
