/**
 * @module A record's syslog severity (0 emergency ... 7 debug) from its level: the `level`,
 * `severity` or `detected_level` attribute or label, as a name (`error`, `warn`, `WARNING`, `fatal`,
 * `trace`...), a one-letter klog level (`E`, `W`, `I`), or a number 0-7. Undefined when the record
 * has none or it is not recognised. Also the field lookup that outputs use to read one value of a
 * record by name (a label, else an attribute).
 */
import type { LogRecord } from '../../../model/record.js';

const NAMES: Readonly<Record<string, number>> = {
  emerg: 0,
  emergency: 0,
  panic: 0,
  alert: 1,
  crit: 2,
  critical: 2,
  fatal: 2,
  err: 3,
  error: 3,
  eror: 3,
  e: 3,
  warn: 4,
  warning: 4,
  w: 4,
  notice: 5,
  info: 6,
  information: 6,
  informational: 6,
  i: 6,
  debug: 7,
  dbug: 7,
  trace: 7,
  d: 7,
};

const LEVEL_FIELDS = ['level', 'severity', 'detected_level'];

/** A label, else an attribute, named `name`. */
export function fieldOf(record: LogRecord, name: string): string | undefined {
  return record.labels[name] ?? record.attributes[name];
}

export function severityName(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^[0-7]$/.test(t)) return Number(t);
  return NAMES[t];
}

export function severityOf(record: LogRecord): number | undefined {
  for (const f of LEVEL_FIELDS) {
    const v = record.attributes[f] ?? record.labels[f];
    if (v === undefined) continue;
    const s = severityName(v);
    if (s !== undefined) return s;
  }
  return undefined;
}
