import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestGauge, pickRun } from '../../../src/store/duckdb/compact.js';
import type { Part } from '../../../src/store/duckdb/parts.js';

const KB = 1024;
let seq = 0;
const part = (bytes: number): Part => {
  seq++;
  return { tenantIndex: 0, day: '2026-11-23', first: seq, last: seq, path: `/p/${seq}`, bytes };
};
const policy = { smallBytes: 4096 * KB, minRun: 4, maxMergeBytes: 16384 * KB };

test('while a day is written, only parts of one size class merge', () => {
  const big = part(900 * KB);
  const tiny = [part(20 * KB), part(25 * KB), part(30 * KB), part(22 * KB)];
  const run = pickRun([big, ...tiny], policy, false);
  assert.deepEqual(run, tiny, 'the big part is not rewritten with the tiny ones');
  assert.equal(pickRun([big, ...tiny.slice(0, 3)], policy, false), undefined, 'fewer than minRun wait');
});

test('parts at or over the small limit never merge; merges are bounded in bytes', () => {
  const large = [part(5000 * KB), part(5000 * KB), part(5000 * KB), part(5000 * KB)];
  assert.equal(pickRun(large, policy, true), undefined);
  const mid = Array.from({ length: 8 }, () => part(3000 * KB));
  const run = pickRun(mid, policy, false);
  assert.ok(run);
  assert.ok(run.reduce((n, p) => n + p.bytes, 0) <= policy.maxMergeBytes);
  assert.equal(run.length, 5);
});

test('once the day is over, any two adjacent small parts merge', () => {
  const mixed = [part(900 * KB), part(20 * KB)];
  assert.deepEqual(pickRun(mixed, policy, true), mixed);
  const split = [part(20 * KB), part(5000 * KB), part(20 * KB)];
  assert.equal(pickRun(split, policy, true), undefined, 'only adjacent parts merge');
});

test('ingest is busy at 4 MiB/s or more, and for 10 s after it slows down', () => {
  const g = new IngestGauge();
  const MiB = 1 << 20;
  assert.equal(g.busy(1_000, 0), false, 'nothing appended');
  assert.equal(g.busy(2_000, 3 * MiB), false, '3 MiB/s is not busy');
  assert.equal(g.busy(3_000, 8 * MiB), true, '5 MiB/s is');
  assert.equal(g.busy(4_000, 8 * MiB), true, 'a pause in a burst is part of it');
  assert.equal(g.busy(12_999, 8 * MiB), true);
  assert.equal(g.busy(13_000, 8 * MiB), false, '10 s after the last busy tick');
  assert.equal(g.busy(13_500, 11 * MiB), true, 'rates are per second of elapsed time');
});
