import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parser } from '@grafana/lezer-logql';
import { formatExpr } from '../../src/logql/format.js';
import { parseLogql } from '../../src/logql/parser.js';
import { LEZER_GAPS, LOKI_REJECTS, VALID_QUERIES } from './corpus.js';

function lezerAccepts(q: string): boolean {
  let ok = true;
  parser.parse(q).iterate({
    enter: (n) => {
      if (n.type.isError) ok = false;
    },
  });
  return ok;
}

test('the corpus is broad', () => {
  assert.ok(VALID_QUERIES.length >= 150, `${VALID_QUERIES.length} queries`);
});

test("whatever Grafana's lezer grammar accepts, kjournal accepts", () => {
  const failures: string[] = [];
  for (const q of VALID_QUERIES) {
    assert.ok(lezerAccepts(q), `lezer rejects ${q}`);
    try {
      parseLogql(q);
    } catch (err) {
      failures.push(`${q}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('queries Loki accepts but lezer rejects parse in kjournal', () => {
  for (const q of LEZER_GAPS) {
    assert.equal(lezerAccepts(q), false, `lezer now accepts ${q}: move it to VALID_QUERIES`);
    assert.doesNotThrow(() => parseLogql(q), q);
  }
});

test('queries lezer accepts but Loki rejects are rejected with its reason', () => {
  for (const [q, re] of LOKI_REJECTS) {
    assert.ok(lezerAccepts(q), `lezer now rejects ${q}`);
    assert.throws(() => parseLogql(q), re, q);
  }
});

test('queries both grammars reject', () => {
  const invalid = [
    '{app="a"',
    '{app="a"} |',
    '{app="a"} | json |',
    'sum(',
    'rate({app="a"})',
    'rate({app="a"}[5m]',
    'sum by (a (rate({app="a"}[1m]))',
    '{app="a"} | logfmt | size == 20kb',
    '{app="a"} | line_format',
    '{app="a"} | label_format a=',
    '1 +',
    'vector()',
    '{app="a"} |= "x" or',
  ];
  for (const q of invalid) {
    assert.equal(lezerAccepts(q), false, `lezer accepts ${q}`);
    assert.throws(() => parseLogql(q), q);
  }
});

test('formatExpr round-trips every query of the corpus', () => {
  for (const q of [...VALID_QUERIES, ...LEZER_GAPS]) {
    const e = parseLogql(q);
    const printed = formatExpr(e);
    assert.deepEqual(parseLogql(printed), e, `${q}\n  printed as ${printed}`);
    assert.equal(formatExpr(parseLogql(printed)), printed, 'printing is stable');
  }
});

test('formatted queries are accepted by lezer too', () => {
  for (const q of VALID_QUERIES) {
    const printed = formatExpr(parseLogql(q));
    assert.ok(lezerAccepts(printed), `${q}\n  printed as ${printed}`);
  }
});
