import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogqlParseError } from '../../src/logql/errors.js';
import { formatExpr } from '../../src/logql/format.js';
import { parseLogql } from '../../src/logql/parser.js';
import { MAX_QUERY_DEPTH, MAX_QUERY_OPERATIONS } from '../../src/logql/parser-base.js';
import { planLog } from '../../src/logql/plan.js';
import { classMatcher, restrictExpr } from '../../src/logql/restrict.js';

const RANGE = 'count_over_time({app="a"}[5m])';
const TOO_DEEP = /^parse error at line 1, col \d+: query too complex: it nests deeper than 256 levels/;
const TOO_MANY = /^parse error at line 1, col \d+: query too complex: more than 1000 binary operations/;

function refused(query: string, message: RegExp): void {
  assert.throws(
    () => parseLogql(query),
    (err: unknown) => err instanceof LogqlParseError && message.test(err.message),
  );
}

test('100,000 nested parentheses are a parse error naming the limit, not a stack overflow', () => {
  refused(`${'('.repeat(100_000)}${RANGE}${')'.repeat(100_000)}`, TOO_DEEP);
  refused(`sum(${'('.repeat(100_000)}{app="a"}${')'.repeat(100_000)}[5m])`, TOO_DEEP);
  refused(`count_over_time(${'('.repeat(100_000)}{app="a"}${')'.repeat(100_000)}[5m])`, TOO_DEEP);
  refused(`{app="a"} | logfmt | ${'('.repeat(100_000)}x="1"${')'.repeat(100_000)}`, TOO_DEEP);
  refused(`${'sum('.repeat(300)}${RANGE}${')'.repeat(300)}`, TOO_DEEP);
  refused(`${RANGE}${' ^ 2'.repeat(300)}`, TOO_DEEP);
  assert.equal(MAX_QUERY_DEPTH, 256);
});

test('12,000 + terms are a parse error naming the limit', () => {
  refused(Array(12_000).fill(RANGE).join(' + '), TOO_MANY);
  refused(`${RANGE}${' + 1'.repeat(12_000)}`, TOO_MANY);
  refused(`{app="a"} | logfmt | x="1"${' or x="1"'.repeat(12_000)}`, TOO_MANY);
  assert.equal(MAX_QUERY_OPERATIONS, 1000);
});

test('queries at the limits parse, and every walker after the parser copes with them', () => {
  const atLimits = [
    // Depth and operations at once: a chain inside aggregations.
    `${'sum('.repeat(MAX_QUERY_DEPTH - 2)}${RANGE}${' + 1'.repeat(MAX_QUERY_OPERATIONS)}${')'.repeat(MAX_QUERY_DEPTH - 2)}`,
    `${'('.repeat(MAX_QUERY_DEPTH - 1)}${RANGE}${')'.repeat(MAX_QUERY_DEPTH - 1)}`,
    `{app="a"} | logfmt | ${'('.repeat(MAX_QUERY_DEPTH - 3)}x="1"${' or x="1"'.repeat(MAX_QUERY_OPERATIONS)}${')'.repeat(MAX_QUERY_DEPTH - 3)}`,
    `${RANGE}${' ^ 2'.repeat(MAX_QUERY_DEPTH - 2)}`,
  ];
  for (const q of atLimits) {
    const e = parseLogql(q);
    const text = formatExpr(e);
    // The text round-trips (assert.deepEqual itself recurses too deep for these trees).
    assert.equal(formatExpr(parseLogql(text)), text);
    formatExpr(restrictExpr(e, [classMatcher('application')]));
    if (e.type === 'log') planLog(e);
  }
});
