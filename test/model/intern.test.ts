/**
 * The interners of label and attribute sets (model/intern.ts): equal sets share one object, and two
 * different sets never do, whatever characters their values hold (a journal's binary fields hold
 * NULs, which a separator-joined key would confuse).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SetInterner, ValueSets } from '../../src/model/intern.js';

test('SetInterner: equal sets are one object; NULs in names or values do not merge two sets', () => {
  const sets = new SetInterner<Record<string, string>>();
  const a = sets.intern({ host: 'h', unit: 'u' });
  assert.equal(sets.intern({ host: 'h', unit: 'u' }), a);
  const b = sets.intern({ a: 'x\u0001b\u00001' });
  const c = sets.intern({ a: 'x', b: '1' });
  assert.notEqual(b, c);
  assert.deepEqual(c, { a: 'x', b: '1' });
});

test('ValueSets: by values in fixed order; undefined left out, empty kept; no confusion by NULs', () => {
  const sets = new ValueSets(['a', 'b']);
  const one = sets.of(['x', undefined]);
  assert.deepEqual(one, { a: 'x' });
  assert.equal(sets.of(['x', undefined]), one);
  assert.deepEqual(sets.of(['x', '']), { a: 'x', b: '' });
  assert.deepEqual(sets.of(['x\u00001:y', undefined]), { a: 'x\u00001:y' });
  assert.deepEqual(sets.of(['x', 'y']), { a: 'x', b: 'y' });
  assert.deepEqual(sets.of(['1:x', undefined]), { a: '1:x' });
  assert.deepEqual(sets.of([undefined, '1:x']), { b: '1:x' });
});

test('ValueSets: bounded; once full the table starts again and every answer is still right', () => {
  const sets = new ValueSets(['a', 'b', 'c'], 5);
  const first = sets.of(['1', '2', '3']);
  for (let i = 0; i < 12; i++)
    assert.deepEqual(sets.of([String(i), undefined, 'z']), { a: String(i), c: 'z' });
  const again = sets.of(['1', '2', '3']);
  assert.deepEqual(again, { a: '1', b: '2', c: '3' });
  assert.notEqual(again, first, 'dropped with the full table, made anew');
  assert.equal(sets.of(['1', '2', '3']), again, 'then shared again');
});
