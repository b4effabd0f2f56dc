/**
 * prettify (src/logql/pretty.ts): Loki's format_query layout (pkg/logql/syntax/prettier.go) over
 * kjournal's one-line forms; every output parses back to the same query.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatExpr } from '../../src/logql/format.js';
import { parseLogql } from '../../src/logql/parser.js';
import { prettify } from '../../src/logql/pretty.js';

const cases: [string, string][] = [
  // Up to 100 characters: one line.
  ['{app="foo"}|="error"', '{app="foo"} |= "error"'],
  ['sum by (pod) (rate({app="foo"}[5m]))', 'sum by (pod) (rate({app="foo"}[5m]))'],
  // A long pipeline: one stage per line; consecutive line filters are one stage.
  [
    '{namespace="production", app="frontend", container="nginx"} |= "error" != "timeout" | json | level="error" | line_format "{{.msg}}"',
    [
      '{namespace="production", app="frontend", container="nginx"}',
      '  |= "error" != "timeout"',
      '  | json',
      '  | level="error"',
      '  | line_format "{{.msg}}"',
    ].join('\n'),
  ],
  // Line filters that do not fit on one line: one per line.
  [
    '{app="frontend"} |= "a very long filter string, the first of three" |= "another very long filter string" != "and a third one"',
    [
      '{app="frontend"}',
      '  |= "a very long filter string, the first of three"',
      '  |= "another very long filter string"',
      '  != "and a third one"',
    ].join('\n'),
  ],
  // A range aggregation: its parameter, then the log range; unwrap and its filters one level deeper.
  [
    'quantile_over_time(0.99, {namespace="production", app="frontend"} | logfmt | unwrap duration(latency) | __error__="" [5m]) by (pod)',
    [
      'quantile_over_time(',
      '  0.99,',
      '  {namespace="production", app="frontend"} | logfmt',
      '    | unwrap duration(latency)',
      '    | __error__="" [5m]',
      ') by (pod)',
    ].join('\n'),
  ],
  // A vector aggregation: grouping before the parenthesis, as Loki prints it.
  [
    'sum by (namespace, pod, container) (rate({namespace="production", app="frontend"} |= "error" | json | level=~"error|critical" [5m]))',
    [
      'sum by (namespace, pod, container)(',
      '  rate({namespace="production", app="frontend"} |= "error" | json | level=~"error|critical" [5m])',
      ')',
    ].join('\n'),
  ],
  [
    'topk(10, sum by (namespace, pod, container) (rate({namespace="production", app="frontend"} |= "error" [5m])))',
    [
      'topk(',
      '  10,',
      '  sum by (namespace, pod, container) (rate({namespace="production", app="frontend"} |= "error" [5m]))',
      ')',
    ].join('\n'),
  ],
  // A binary operation: the sides one level deeper around the operator and its modifiers.
  [
    'sum(rate({namespace="production", app="frontend"} |= "error" [5m])) / on (namespace) group_left (pod) sum(rate({namespace="production"} [5m]))',
    [
      '  sum (rate({namespace="production", app="frontend"} |= "error" [5m]))',
      '/ on (namespace) group_left (pod)',
      '  sum (rate({namespace="production"}[5m]))',
    ].join('\n'),
  ],
  // A side keeps the parentheses its operator's precedence needs (Loki's printer drops them).
  [
    '(sum(rate({namespace="production", app="frontend"} |= "error" [5m])) + sum(rate({namespace="production"} [5m]))) * 100',
    [
      '  (sum (rate({namespace="production", app="frontend"} |= "error" [5m])) + sum (rate({namespace="production"}[5m])))',
      '*',
      '  100',
    ].join('\n'),
  ],
  [
    'label_replace(rate({namespace="production", app="frontend", container="nginx-ingress-controller"}[5m]), "dst", "$1", "src", "(.*)")',
    [
      'label_replace(',
      '  rate({namespace="production", app="frontend", container="nginx-ingress-controller"}[5m]),',
      '  "dst",',
      '  "$1",',
      '  "src",',
      '  "(.*)"',
      ')',
    ].join('\n'),
  ],
];

describe('prettify', () => {
  for (const [query, want] of cases) {
    test(query.slice(0, 60), () => {
      const expr = parseLogql(query);
      const got = prettify(expr);
      assert.equal(got, want);
      assert.deepEqual(parseLogql(got), expr, 'parses back to the same query');
      if (!got.includes('\n')) assert.equal(got, formatExpr(expr));
    });
  }
});
