/**
 * @module Label filters as Loki's label_filter.go: string matchers (RE2 anchored, a missing label is
 * ""), numbers, durations and bytes (a missing label drops the entry; a value that does not parse sets
 * `__error__="LabelFilterErr"` and keeps it), ip, and `and`/`or` (`and` evaluates both sides).
 */
import type RE2 from 're2';
import { parseHumanBytes } from '../../go/bytes.js';
import { parseGoDuration } from '../../go/duration.js';
import { goParseFloat } from '../../go/float.js';
import type { CompareOp, LabelFilter } from '../ast.js';
import { ERR_LABEL_FILTER, ERROR_DETAILS_LABEL, ERROR_LABEL } from './errors.js';
import { compileIpMatcher, lineHasIp } from './ip.js';
import { compileRe2 } from './line-filter.js';
import type { Stage } from './stage.js';
import type { EntryState } from './state.js';

/** A Prometheus regex matcher: anchored, `.` matching new lines. */
export function anchoredLabelRegex(source: string): RE2 {
  return compileRe2(`^(?s:${source})$`);
}

export type StringTest = (value: string) => boolean;

export function compileStringMatcher(op: '=' | '!=' | '=~' | '!~', value: string): StringTest {
  switch (op) {
    case '=':
      return (v) => v === value;
    case '!=':
      return (v) => v !== value;
    case '=~': {
      const re = anchoredLabelRegex(value);
      return (v) => re.test(v);
    }
    case '!~': {
      const re = anchoredLabelRegex(value);
      return (v) => !re.test(v);
    }
  }
}

function labelValue(st: EntryState, name: string): string {
  if (name === ERROR_LABEL) return st.err;
  if (name === ERROR_DETAILS_LABEL) return st.errDetails;
  return st.get(name) ?? '';
}

/** A numeric label filter's comparison (also the metric engine's filters on unwrapped series). */
export function compareNumbers(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

type Parsed = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

/** time.ParseDuration, in nanoseconds as a number (the filter's value is one). */
function parseDurationNumber(s: string): Parsed {
  const p = parseGoDuration(s);
  return p.ok ? { ok: true, value: Number(p.value) } : p;
}

function numeric(name: string, op: CompareOp, want: number, parse: (s: string) => Parsed): Stage {
  return (st) => {
    const v = st.get(name);
    if (v === undefined) return false;
    const p = parse(v);
    if (!p.ok) {
      if (st.err === '') st.setErr(ERR_LABEL_FILTER, p.error);
      return true;
    }
    return compareNumbers(op, p.value, want);
  };
}

export function compileLabelFilter(f: LabelFilter): Stage {
  switch (f.kind) {
    case 'and': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (st) => {
        const a = l(st);
        const b = r(st);
        return a && b;
      };
    }
    case 'or': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (st) => l(st) || r(st);
    }
    case 'string': {
      const t = compileStringMatcher(f.op, f.value);
      const name = f.name;
      return (st) => t(labelValue(st, name));
    }
    case 'number':
      return numeric(f.name, f.op, f.value, goParseFloat);
    case 'duration':
      return numeric(f.name, f.op, f.value, parseDurationNumber);
    case 'bytes':
      return numeric(f.name, f.op, f.value, parseHumanBytes);
    case 'ip': {
      const m = compileIpMatcher(f.value);
      const name = f.name;
      const neg = f.op === '!=';
      return (st) => {
        if (st.err !== '') return true; // as Loki: only string matchers filter out errors
        const v = st.get(name);
        if (v === undefined) return false;
        return neg ? !lineHasIp(v, m) : lineHasIp(v, m);
      };
    }
  }
}
