/**
 * @module Label filters after `unwrap` (`| unwrap latency | __error__=""`), applied to a sample's
 * labels. A numeric, duration or bytes filter on a value that does not convert keeps the sample and
 * marks it with `__error__="LabelFilterErr"`, as Loki does.
 */
import type { LabelFilter } from '../../logql/ast.js';
import { LogqlUnsupportedError } from '../../logql/errors.js';
import { compareNumbers } from '../../logql/stages/label-filter.js';
import type { Labels } from '../../model/record.js';
import { anchoredRegex } from '../../store/matchers.js';
import { convertBytes, convertDurationNs, convertFloat } from './convert.js';

export type CompiledFilter = (labels: Labels) => { keep: boolean; labels: Labels };

export function compileLabelFilter(f: LabelFilter): CompiledFilter {
  switch (f.kind) {
    case 'and':
    case 'or': {
      const left = compileLabelFilter(f.left);
      const right = compileLabelFilter(f.right);
      return f.kind === 'and'
        ? (labels) => {
            const l = left(labels);
            return l.keep ? right(l.labels) : l;
          }
        : (labels) => {
            const l = left(labels);
            return l.keep ? l : right(labels);
          };
    }
    case 'string': {
      const { name, op, value } = f;
      const re = op === '=~' || op === '!~' ? anchoredRegex(value) : undefined;
      return (labels) => {
        const v = labels[name] ?? '';
        const keep =
          op === '=' ? v === value : op === '!=' ? v !== value : op === '=~' ? re!.test(v) : !re!.test(v);
        return { keep, labels };
      };
    }
    case 'number':
    case 'duration':
    case 'bytes': {
      const { name, op, value, kind } = f;
      const convert =
        kind === 'number'
          ? convertFloat
          : kind === 'duration'
            ? (s: string) => Number(convertDurationNs(s))
            : convertBytes;
      return (labels) => {
        const text = labels[name];
        if (text === undefined) return { keep: false, labels };
        let v: number;
        try {
          v = convert(text);
        } catch (err) {
          if (labels.__error__) return { keep: true, labels };
          return {
            keep: true,
            labels: { ...labels, __error__: 'LabelFilterErr', __error_details__: (err as Error).message },
          };
        }
        return { keep: compareNumbers(op, v, value), labels };
      };
    }
    case 'ip':
      throw new LogqlUnsupportedError('ip() label filters after unwrap are not supported yet');
  }
}

export function compileLabelFilters(filters: readonly LabelFilter[]): CompiledFilter | undefined {
  if (filters.length === 0) return undefined;
  const compiled = filters.map(compileLabelFilter);
  return (labels) => {
    let cur = labels;
    for (const f of compiled) {
      const r = f(cur);
      if (!r.keep) return r;
      cur = r.labels;
    }
    return { keep: true, labels: cur };
  };
}
