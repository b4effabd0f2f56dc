import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogqlParseError, LogqlUnsupportedError } from '../../src/logql/errors.js';
import { parseLogql } from '../../src/logql/parser.js';
import { planLog } from '../../src/logql/plan.js';

test('stream selectors with every matcher operator', () => {
  const e = parseLogql('{app="web", env!="dev", pod=~"web-.*", ns!~`kube-.*`}');
  assert.equal(e.type, 'log');
  if (e.type !== 'log') return;
  assert.deepEqual(e.matchers, [
    { name: 'app', op: '=', value: 'web' },
    { name: 'env', op: '!=', value: 'dev' },
    { name: 'pod', op: '=~', value: 'web-.*' },
    { name: 'ns', op: '!~', value: 'kube-.*' },
  ]);
});

test('line filters with or, and Go string escapes', () => {
  const e = parseLogql(
    '{app="a"} |= "timeout" or "refused" != "debug" |~ "(?i)err\\\\d+" !~ `^GET` # comment',
  );
  if (e.type !== 'log') throw new Error('expected a log query');
  const plan = planLog(e);
  assert.deepEqual(plan.lineFilters, [
    { op: '|=', value: 'timeout', or: ['refused'] },
    { op: '!=', value: 'debug' },
    { op: '|~', value: '(?i)err\\d+' },
    { op: '!~', value: '^GET' },
  ]);
  assert.deepEqual(plan.rest, []);
  const bytes = parseLogql('{a="x"} |= "caf\\xc3\\xa9" |= "\\303\\251"');
  if (bytes.type !== 'log') throw new Error('expected a log query');
  assert.deepEqual(
    bytes.pipeline.map((p) => p.type === 'lineFilter' && p.value),
    ['café', 'é'],
    '\\x and octal escapes are bytes, as in Go',
  );
  for (const bad of ['"\\UFFFFFFFF"', '"\\uD800"', '"\\400"', '"\\q"', `"\\'"`]) {
    assert.throws(() => parseLogql(`{a=${bad}}`), LogqlParseError, bad);
  }
  const esc = parseLogql('{a="tab\\there \\"q\\" \\u00e9"}');
  if (esc.type !== 'log') throw new Error('expected a log query');
  assert.equal(esc.matchers[0]!.value, 'tab\there "q" é');
});

test('metric queries: range and vector aggregations with grouping', () => {
  const e = parseLogql('sum by (namespace) (count_over_time({app="a"} |= "x" [5m] offset 1h))');
  assert.equal(e.type, 'vector');
  if (e.type !== 'vector') return;
  assert.deepEqual(e.grouping, { without: false, labels: ['namespace'] });
  assert.equal(e.expr.type, 'range');
  if (e.expr.type !== 'range') return;
  assert.equal(e.expr.range, 300_000_000_000n);
  assert.equal(e.expr.offset, 3_600_000_000_000n);
  assert.equal(e.expr.log.pipeline.length, 1);
  const after = parseLogql('count_over_time({app="a"}[1h] |= "x")');
  assert.equal(after.type === 'range' && after.log.pipeline.length, 1);
  const trailing = parseLogql('sum(rate({app="a"}[1m])) without (pod)');
  assert.deepEqual(trailing.type === 'vector' && trailing.grouping, { without: true, labels: ['pod'] });
});

test('parse errors carry Loki-style positions', () => {
  const cases: [string, RegExp][] = [
    ['{app="a"', /parse error at line 1, col 9: syntax error: unexpected end of input/],
    ['{app=}', /col 6: syntax error: unexpected }, expecting STRING/],
    ['{app="a"} |= ', /unexpected end of input, expecting STRING/],
    ['{app=~"("}', /col 7: error parsing regexp/],
    ['{app="a"}\n |~ "[z-a]"', /line 2, col 5: error parsing regexp/],
    ['{app=~".*"}', /queries require at least one regexp or equality matcher/],
    ['{app="a"} extra', /unexpected IDENT extra, expecting end of input/],
    ['', /unexpected end of input/],
    ['{app="unterminated}', /literal not terminated/],
  ];
  for (const [q, re] of cases) {
    assert.throws(
      () => parseLogql(q),
      (err: unknown) => err instanceof LogqlParseError && re.test(err.message),
      q,
    );
  }
});

test('what kjournal cannot represent is reported as not supported, not misread', () => {
  assert.throws(() => parseLogql('{app="a"} | xml'), LogqlParseError, "Loki's lexer has no xml token");
  assert.throws(() => parseLogql('approx_topk(3, count_over_time({a="b"}[1m]))'), LogqlUnsupportedError);
});
