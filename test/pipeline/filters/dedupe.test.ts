import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dedupeFilter } from '../../../src/pipeline/filters/dedupe.js';
import { build, Clock, rec, throwsConfig } from './helpers.js';

const dedupe = (options: unknown, clock = new Clock()) => build(dedupeFilter, 'dedupe', options, clock);

test('the same body in the same stream within the window is dropped', () => {
  const clock = new Clock();
  const f = dedupe({ window: 5 }, clock);
  const a = rec({ labels: { pod: 'p1' }, body: 'disk full' });
  assert.equal(f.apply(a), a);
  clock.ms += 1000;
  assert.equal(f.apply(rec({ labels: { pod: 'p1' }, body: 'disk full', attributes: { x: '1' } })), null);
  assert.notEqual(f.apply(rec({ labels: { pod: 'p2' }, body: 'disk full' })), null, 'another stream');
  assert.notEqual(f.apply(rec({ labels: { pod: 'p1' }, body: 'disk almost full' })), null, 'another body');
});

test('the window starts at the record that went on; repeats do not extend it', () => {
  const clock = new Clock();
  const f = dedupe({ window: 5 }, clock);
  const results: boolean[] = [];
  for (let s = 0; s <= 11; s++) {
    clock.ms = 1_700_000_000_000 + s * 1000;
    results.push(f.apply(rec({ body: 'tick' })) !== null);
  }
  assert.deepEqual(results, [
    true,
    false,
    false,
    false,
    false,
    true,
    false,
    false,
    false,
    false,
    true,
    false,
  ]);
});

test('keys choose what makes records equal; a missing field differs from an empty one', () => {
  const f = dedupe({ keys: ['level', 'labels.pod'] });
  assert.notEqual(f.apply(rec({ labels: { pod: 'a' }, attributes: { level: 'warn' }, body: 'one' })), null);
  assert.equal(
    f.apply(rec({ labels: { pod: 'a', other: 'x' }, attributes: { level: 'warn' }, body: 'two' })),
    null,
  );
  assert.notEqual(f.apply(rec({ labels: { pod: 'a' }, body: 'no level' })), null);
  assert.notEqual(f.apply(rec({ labels: { pod: 'a' }, attributes: { level: '' } })), null);
});

test('maxEntries bounds the memory: the oldest is forgotten', () => {
  const f = dedupe({ maxEntries: 2, window: 60 });
  for (const body of ['a', 'b', 'c']) assert.notEqual(f.apply(rec({ body })), null);
  assert.notEqual(f.apply(rec({ body: 'a' })), null, 'a was forgotten');
  assert.equal(f.apply(rec({ body: 'c' })), null, 'c is remembered');
});

test('bad options are ConfigErrors naming the field', () => {
  throwsConfig(() => dedupe({ window: -1 }), 'dedupe', ['window'], /at least 0/);
  throwsConfig(() => dedupe({ window: '1m' }), 'dedupe', ['window'], /must be a number/);
  throwsConfig(() => dedupe({ maxEntries: 0 }), 'dedupe', ['maxEntries'], /at least 1/);
  throwsConfig(() => dedupe({ keys: [] }), 'dedupe', ['keys'], /at least one/);
  throwsConfig(() => dedupe({ keys: ['body', ''] }), 'dedupe', ['keys', 1], /field name/);
  throwsConfig(() => dedupe({ windowSeconds: 3 }), 'dedupe', ['windowSeconds'], /unknown/);
});
