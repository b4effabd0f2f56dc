/**
 * The planner's content hints: which label filters become necessary conditions for the store, and
 * which must not (values a stage could make up, labels the pipeline sets, `or`, empty values).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLogExpr } from '../../src/logql/ast.js';
import { parseLogql } from '../../src/logql/parser.js';
import { planLog } from '../../src/logql/plan.js';

function hints(q: string) {
  const e = parseLogql(q);
  assert.ok(isLogExpr(e));
  return planLog(e).hints;
}

test('label equalities after parsers and filters become hints', () => {
  assert.deepEqual(hints('{a="b"} | json | level="error"'), [{ label: 'level', literal: 'error' }]);
  assert.deepEqual(hints('{a="b"} |= "x" | logfmt --strict | level="error", app="shop" | keep level'), [
    { label: 'level', literal: 'error' },
    { label: 'app', literal: 'shop' },
  ]);
  assert.deepEqual(hints('{a="b"} | regexp "(?P<x>.)" | x="y" and n > 2 | pattern "<_> <z>" | z="w"'), [
    { label: 'x', literal: 'y' },
    { label: 'z', literal: 'w' },
  ]);
  assert.deepEqual(hints('{a="b"} | unpack | drop q | level="warn"'), [{ label: 'level', literal: 'warn' }]);
});

test('no hint where a value may be made up, set by the pipeline, or not required', () => {
  for (const q of [
    '{a="b"} | json | level!="error"',
    '{a="b"} | json | level=~"error"',
    '{a="b"} | json | level="error" or level="warn"',
    '{a="b"} | json | level=""',
    '{a="b"} | json | __error__="JSONParserErr"',
    '{a="b"} | line_format "{{.x}}" | json | level="error"',
    '{a="b"} | json | label_format level=lvl | level="error"',
    '{a="b"} | decolorize | logfmt | level="error"',
    '{a="b"} | json | size > 3',
  ]) {
    assert.deepEqual(hints(q), [], q);
  }
  // Filters before a made-up value still count.
  assert.deepEqual(hints('{a="b"} | json | level="error" | line_format "{{.msg}}" | msg="x"'), [
    { label: 'level', literal: 'error' },
  ]);
});
