/** The agent's time check before buffering (src/agent/time-gate.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimeGate } from '../../src/agent/time-gate.js';
import type { LogRecord } from '../../src/model/record.js';

const S = 1_000_000_000n;
const T0 = 1_796_083_200n * S; // 2026-12-01T00:00:00Z
const labels = { job: 'g' };
const rec = (ts: bigint): LogRecord => ({
  timestamp: ts,
  observedTimestamp: ts,
  labels,
  attributes: {},
  body: 'x',
});

test('refuses before 1970 and past the grace period; passes the batch itself when all is well', () => {
  const refused: string[] = [];
  const logged: string[] = [];
  const gate = new TimeGate({ onRefused: (r) => refused.push(r), log: (m) => logged.push(m), now: () => T0 });
  const fine = [rec(T0), rec(T0 + 600n * S), rec(1n)];
  assert.equal(gate.filter(fine), fine, 'no copy when nothing is refused');
  const out = gate.filter([rec(T0), rec(-1n), rec(T0 + 601n * S), rec(2n ** 63n), rec(T0 + 1n)]);
  assert.deepEqual(
    out.map((r) => r.timestamp),
    [T0, T0 + 1n],
  );
  assert.deepEqual(refused, ['too_old', 'too_new', 'too_new']);
  // One line, then quiet for the interval; the metric counts every one.
  assert.equal(logged.length, 1);
  assert.equal(
    logged[0],
    'entry for stream \'{job="g"}\' has timestamp too old: 1969-12-31T23:59:59Z, oldest acceptable timestamp is: 1970-01-01T00:00:00Z; not shipped',
  );
});

test('a window kept from earlier does not refuse what is fine now', () => {
  let now = T0;
  const refused: string[] = [];
  const gate = new TimeGate({ onRefused: (r) => refused.push(r), log: () => undefined, now: () => now });
  assert.ok(gate.accepts(labels, T0));
  now = T0 + 3_600n * S;
  assert.ok(gate.accepts(labels, now + 60n * S), 'an hour later, a minute ahead is fine');
  assert.ok(!gate.accepts(labels, now + 3_600n * S));
  assert.deepEqual(refused, ['too_new']);
});
