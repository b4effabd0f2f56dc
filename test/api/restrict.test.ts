/**
 * LokiStack class restriction: the AST transform and the query-text rewrite agree, for every
 * selector of log and metric queries.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLogql } from '../../src/logql/parser.js';
import { classMatcher, restrictExpr, restrictQueryText } from '../../src/logql/restrict.js';

describe('restrict a query to a class', () => {
  const cases: [string, string][] = [
    ['{namespace="shop"}', '{class="audit", namespace="shop"}'],
    ['{namespace="shop"} |= "a{b}" != `}{`', '{class="audit", namespace="shop"} |= "a{b}" != `}{`'],
    [
      'sum by (namespace) (count_over_time({a="b"} |= "x" [5m]))',
      'sum by (namespace) (count_over_time({class="audit", a="b"} |= "x" [5m]))',
    ],
    [
      'sum(rate({a="1"}[1m])) / sum(rate({b="2"}[1m]))',
      'sum(rate({class="audit", a="1"}[1m])) / sum(rate({class="audit", b="2"}[1m]))',
    ],
    ['{}', '{class="audit"}'],
  ];
  for (const [input, text] of cases) {
    test(input, () => {
      assert.equal(restrictQueryText(input, [classMatcher('audit')]), text);
    });
  }

  test('the AST transform adds the matcher to every selector', () => {
    const e = restrictExpr(parseLogql('count_over_time({a="b"} |= "x" [5m])'), [classMatcher('application')]);
    assert.equal(e.type, 'range');
    if (e.type !== 'range') return;
    assert.deepEqual(e.log.matchers, [
      { name: 'a', op: '=', value: 'b' },
      { name: 'class', op: '=', value: 'application' },
    ]);
    const l = restrictExpr(parseLogql('{a="b"}'), [classMatcher('audit')]);
    assert.deepEqual(l.type === 'log' ? l.matchers.at(-1) : undefined, {
      name: 'class',
      op: '=',
      value: 'audit',
    });
  });

  test('the rewritten text parses to the restricted AST (up to matcher order)', () => {
    const q = 'sum(count_over_time({a="1"}[1m])) by (a)';
    const viaText = parseLogql(restrictQueryText(q, [classMatcher('audit')]));
    const viaAst = restrictExpr(parseLogql(q), [classMatcher('audit')]);
    const sortMatchers = (e: unknown): unknown =>
      JSON.parse(
        JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
        (k, v) =>
          k === 'matchers' ? [...(v as { name: string }[])].sort((x, y) => x.name.localeCompare(y.name)) : v,
      );
    assert.deepEqual(sortMatchers(viaText), sortMatchers(viaAst));
  });
});

describe('LokiStack query rewrite', () => {
  test('parsed queries are restricted in the tree and printed back', async () => {
    const { restrictQuery } = await import('../../src/api/loki/lokistack.js');
    const out = restrictQuery('sum by (a) (count_over_time({a="b"} |= "x" [5m]))', [classMatcher('audit')]);
    assert.deepEqual(
      parseLogql(out),
      restrictExpr(parseLogql('sum by (a) (count_over_time({a="b"} |= "x" [5m]))'), [classMatcher('audit')]),
    );
    // Unparseable queries keep failing the same way.
    assert.equal(restrictQuery('{a=}', [classMatcher('audit')]), '{class="audit", a=}');
  });
});
