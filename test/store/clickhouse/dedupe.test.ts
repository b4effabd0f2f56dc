/**
 * The ClickHouse store's classification (src/store/clickhouse/dedupe.ts) at one timestamp: entries
 * at a stream's greatest time go to no lookup in ClickHouse while the lines there are known; equal
 * ones are duplicates; a failed append or another server's append there brings lookups back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogRecord } from '../../../src/model/record.js';
import { classify } from '../../../src/store/clickhouse/dedupe.js';
import { StreamHeads } from '../../../src/store/dedupe.js';
import type { StreamRef } from '../../../src/store/store.js';
import { rec } from '../contract.js';

const T = 1_800_000_000_000_000_000n;
const stream: StreamRef = { id: 7n, labels: { app: 'same-second' } };

const lines = (from: number, n: number): LogRecord[] =>
  Array.from({ length: n }, (_, i) => rec({ app: 'same-second' }, T, `line ${from + i}`));

function run(heads: StreamHeads<bigint>, records: LogRecord[], outcome: 'stored' | 'failed' = 'stored') {
  const claims = heads.claims();
  const c = classify(
    heads,
    records,
    records.map(() => stream),
    claims,
  );
  if (outcome === 'stored') claims.stored();
  else claims.failed();
  return { check: c.check.length, dropped: c.drop ? c.drop.reduce((a, b) => a + b, 0) : 0 };
}

test('clickhouse classify: appends at one timestamp need no lookup; equal entries are dropped', () => {
  const heads = new StreamHeads<bigint>();
  heads.known(stream.id);
  for (let b = 0; b < 50; b++) assert.deepEqual(run(heads, lines(b * 100, 100)), { check: 0, dropped: 0 });
  assert.deepEqual(run(heads, lines(4900, 100)), { check: 0, dropped: 100 });
  assert.deepEqual(run(heads, lines(4950, 100)), { check: 0, dropped: 50 });
  // A failed append: its lines and everything at that time are looked up, never dropped at once.
  assert.deepEqual(run(heads, lines(6000, 100), 'failed'), { check: 0, dropped: 0 });
  assert.deepEqual(run(heads, lines(6000, 100)), { check: 100, dropped: 0 });
  assert.deepEqual(run(heads, lines(4900, 10)), { check: 10, dropped: 0 });
});

test('clickhouse classify: another server appending at that time brings lookups back', () => {
  const heads = new StreamHeads<bigint>();
  heads.known(stream.id);
  run(heads, lines(0, 100));
  heads.cover(stream.id, T, T);
  assert.deepEqual(run(heads, lines(100, 10)), { check: 10, dropped: 0 });
});
